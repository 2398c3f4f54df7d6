// ConfigReport: the configuration a server runs with, for GET /admin/config: every key of its
// host.conf by section as the file has it, and what the server made of the parts the command line
// can change (bind addresses, server id, consumed exchanges, plugin folders).
//
// Secrets never leave: the value of a key whose name speaks of a password, secret, token,
// credential or key is replaced by "********", and so is the password of any user:password@ in a
// URL. Environment variables (BUSBAR_STORAGE_PASSWORD...) are not read at all.
//
// Stateless; thread-safe.
#pragma once

#include <string>

#include <Poco/AutoPtr.h>
#include <Poco/JSON/Object.h>
#include <Poco/Util/AbstractConfiguration.h>

#include "host_config.h"

namespace busbar::host {

// True when a key of this name holds a secret ("password", "sqlite.password", "api_key"...).
bool isSecretKey(const std::string& key);

// `value` with the password of every "scheme://user:password@" replaced by ********.
std::string maskUrlPasswords(const std::string& value);

// {"file", "sections": {section: {key: value}}, "effective": {...}}, secrets masked.
Poco::JSON::Object::Ptr describeConfig(
    const Poco::AutoPtr<Poco::Util::AbstractConfiguration>& config, const HostSettings& settings);

}  // namespace busbar::host
