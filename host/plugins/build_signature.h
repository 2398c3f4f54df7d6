// What differs between two build signatures (BUSBAR_BUILD_SIGNATURE, abi.h), in words an operator
// can act on. Stateless; safe from any thread.
#pragma once

#include <string>

namespace busbar::host {

// Each field in which `plugin` differs from `host`, as "<what>: this host <x>, the plugin <y>",
// joined by "; ". A signature that does not parse as one is reported whole. "" when they are equal.
std::string describeSignatureDifference(const std::string& host, const std::string& plugin);

// The SDK header digest that a plugin built for ABI minor `minor` carries in its signature: this
// SDK's for this minor, the released SDK's for an older one, "" before the digest existed (1.3).
std::string expectedSdkDigest(int minor);

// Why a plugin built for ABI minor `minor` with `signature` may not be loaded by a host whose own
// signature is `host` ("" when it may): each field must be the host's, except the SDK digest,
// which must be expectedSdkDigest(minor).
std::string signatureRefusal(const std::string& host, const std::string& signature, int minor);

}  // namespace busbar::host
