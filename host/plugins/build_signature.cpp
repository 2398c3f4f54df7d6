#include "plugins/build_signature.h"

#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "busbar/abi.h"

namespace busbar::host {
namespace {

// The first ABI minor whose signature carries the SDK digest.
constexpr int kFirstDigestMinor = 3;

// The digest of each released minor from kFirstDigestMinor on (sdk/abi_digests.txt).
const std::map<int, std::string> kReleasedSdkDigests = {
#include "released_sdk_digests.inc"
};

// A signature's fields by name: "compiler", "standard", the `key=value` ones by key, and each
// option flag (glibcxx-debug, asan...) as "options".
struct Fields {
  std::map<std::string, std::string> values;
  std::set<std::string> options;
};

Fields parse(const std::string& signature) {
  Fields fields;
  std::stringstream in(signature);
  std::string token;
  for (int index = 0; std::getline(in, token, ';'); ++index) {
    const auto equals = token.find('=');
    if (index == 0) {
      fields.values["compiler"] = token;
    } else if (token.rfind("c++", 0) == 0) {
      fields.values["standard"] = token.substr(3);
    } else if (equals != std::string::npos) {
      fields.values[token.substr(0, equals)] = token.substr(equals + 1);
    } else {
      fields.options.insert(token);
    }
  }
  return fields;
}

std::string optionName(const std::string& option) {
  static const std::map<std::string, std::string> names = {
      {"glibcxx-debug", "_GLIBCXX_DEBUG"},  {"glibcxx-assertions", "_GLIBCXX_ASSERTIONS"},
      {"asan", "AddressSanitizer"},         {"tsan", "ThreadSanitizer"},
      {"no-exceptions", "-fno-exceptions"}, {"no-rtti", "-fno-rtti"}};
  auto found = names.find(option);
  return found == names.end() ? option : found->second;
}

std::string fieldName(const std::string& key) {
  static const std::map<std::string, std::string> names = {
      {"compiler", "compiler"},
      {"standard", "C++ standard (__cplusplus)"},
      {"cxx11abi", "libstdc++ string ABI"},
      {"boost", "Boost version"},
      {"poco", "Poco version"},
      {"sdk", "SDK headers digest"}};
  auto found = names.find(key);
  return found == names.end() ? key : found->second;
}

}  // namespace

std::string describeSignatureDifference(const std::string& host, const std::string& plugin) {
  if (host == plugin) return "";
  const Fields ours = parse(host);
  const Fields theirs = parse(plugin);
  std::vector<std::string> differences;
  std::set<std::string> keys;
  for (const auto& [key, value] : ours.values) keys.insert(key);
  for (const auto& [key, value] : theirs.values) keys.insert(key);
  for (const auto& key : keys) {
    auto mine = ours.values.find(key);
    auto its = theirs.values.find(key);
    const std::string a = mine == ours.values.end() ? "(none)" : mine->second;
    const std::string b = its == theirs.values.end() ? "(none)" : its->second;
    if (a == b) continue;
    std::string difference = fieldName(key) + ": this host " + a + ", the plugin " + b;
    if (key == "sdk") {
      difference +=
          " (the plugin was built from SDK headers that differ from this host's, though the "
          "ABI version may be the same: an edited or another build's SDK)";
    }
    differences.push_back(difference);
  }
  for (const auto& option : theirs.options) {
    if (ours.options.count(option) == 0) {
      differences.push_back("the plugin was built with " + optionName(option) +
                            ", this host without");
    }
  }
  for (const auto& option : ours.options) {
    if (theirs.options.count(option) == 0) {
      differences.push_back("this host was built with " + optionName(option) +
                            ", the plugin without");
    }
  }
  if (differences.empty()) return "'" + plugin + "' instead of '" + host + "'";
  std::string text;
  for (const auto& difference : differences) text += (text.empty() ? "" : "; ") + difference;
  return text;
}

std::string expectedSdkDigest(int minor) {
  if (minor < kFirstDigestMinor) return "";
  if (minor == BUSBAR_ABI_MINOR) return BUSBAR_SDK_DIGEST;  // equal to its released one, if any
  auto released = kReleasedSdkDigests.find(minor);
  return released == kReleasedSdkDigests.end() ? "(unknown)" : released->second;
}

namespace {

// `signature` as an SDK of `minor` writes it: with that minor's digest; before the digest existed,
// without it and without the build options, which those SDKs did not write either.
std::string asWrittenFor(const std::string& signature, int minor) {
  const bool before_digests = minor < kFirstDigestMinor;
  std::string written;
  std::stringstream in(signature);
  std::string token;
  for (int index = 0; std::getline(in, token, ';'); ++index) {
    if (token.rfind("sdk=", 0) == 0) {
      if (before_digests) continue;
      token = "sdk=" + expectedSdkDigest(minor);
    } else if (before_digests && index > 0 && token.rfind("c++", 0) != 0 &&
               token.find('=') == std::string::npos) {
      continue;  // a build option
    }
    written += (written.empty() ? "" : ";") + token;
  }
  return written;
}

}  // namespace

std::string signatureRefusal(const std::string& host, const std::string& signature, int minor) {
  if (minor < kFirstDigestMinor && parse(host).options.count("glibcxx-debug") > 0) {
    // Those SDKs wrote no build options: the plugin cannot say that it shares the debug
    // containers' layout, and a plugin built without it does not.
    return "this host was built with _GLIBCXX_DEBUG, and a plugin of ABI 1." +
           std::to_string(minor) + " cannot say whether it was (its SDK wrote no build options)";
  }
  // Before the digest, what such a plugin's signature says beyond the old fields is not checked.
  const std::string found = minor < kFirstDigestMinor ? asWrittenFor(signature, minor) : signature;
  return describeSignatureDifference(asWrittenFor(host, minor), found);
}

}  // namespace busbar::host
