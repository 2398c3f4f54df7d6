// ConfigSection: typed, validated access to one section of host.conf.
//
// Every getter names the file and the key in its error, says what is allowed and what was
// found, so that an operator can fix the file without reading code. A plugin reads its section
// in init() and then calls rejectUnknownKeys() so that a typo stops the host instead of being
// ignored. Immutable after construction; safe to read from several threads.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/NumberParser.h>
#include <Poco/Path.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>
#include <Poco/Util/AbstractConfiguration.h>

#include "busbar/errors.h"
#include "busbar/nearest_name.h"

namespace busbar {

class ConfigSection {
 public:
  ConfigSection(Poco::AutoPtr<Poco::Util::AbstractConfiguration> config, std::string file,
                std::string section)
      : config_(std::move(config)), file_(std::move(file)), section_(std::move(section)) {}

  const std::string& file() const { return file_; }
  const std::string& name() const { return section_; }

  // True when the key is present, even with an empty value.
  bool has(const std::string& key) const { return config_->hasProperty(full(key)); }

  // The trimmed value, or `fallback` when the key is absent or empty.
  std::string getString(const std::string& key, const std::string& fallback = "") const {
    std::string value = Poco::trim(config_->getString(full(key), ""));
    return value.empty() ? fallback : value;
  }

  // The value; on absence or emptiness throws ConfigError saying what it is for.
  std::string requireString(const std::string& key, const std::string& what) const {
    std::string value = getString(key);
    if (value.empty()) fail(key, "is required: " + what, "nothing");
    return value;
  }

  // An integer in [min, max]; `fallback` when absent.
  int64_t getInt(const std::string& key, int64_t fallback, int64_t min, int64_t max) const {
    std::string text = getString(key);
    if (text.empty()) return fallback;
    Poco::Int64 value = 0;
    if (!Poco::NumberParser::tryParse64(text, value) || value < min || value > max) {
      fail(key, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max),
           "'" + text + "'");
    }
    return value;
  }

  // true/false/yes/no/on/off/1/0; `fallback` when absent.
  bool getBool(const std::string& key, bool fallback) const {
    std::string text = Poco::toLower(getString(key));
    if (text.empty()) return fallback;
    if (text == "true" || text == "yes" || text == "on" || text == "1") return true;
    if (text == "false" || text == "no" || text == "off" || text == "0") return false;
    fail(key, "must be true or false", "'" + text + "'");
    return fallback;
  }

  // One of `allowed`; `fallback` when absent.
  std::string getChoice(const std::string& key, const std::string& fallback,
                        const std::vector<std::string>& allowed) const {
    std::string text = getString(key, fallback);
    for (const auto& option : allowed) {
      if (text == option) return text;
    }
    fail(key, "must be one of " + join(allowed), "'" + text + "'");
    return fallback;
  }

  // A comma-separated list, items trimmed, empty items dropped.
  std::vector<std::string> getList(const std::string& key) const {
    Poco::StringTokenizer tokens(
        getString(key), ",",
        Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
    return {tokens.begin(), tokens.end()};
  }

  // A path; relative paths resolve against the folder of the config file.
  std::string getPath(const std::string& key, const std::string& fallback) const {
    std::string text = getString(key, fallback);
    if (text.empty()) return text;
    Poco::Path path(text);
    if (path.isAbsolute()) return path.toString();
    return Poco::Path(Poco::Path(file_).makeAbsolute().parent(), path).makeAbsolute().toString();
  }

  // A secret: the environment variable `env_var` when set, else the key. Never log the result.
  std::string getSecret(const std::string& key, const char* env_var) const {
    const char* from_env = std::getenv(env_var);
    return from_env != nullptr ? std::string(from_env) : getString(key);
  }

  // The keys below `prefix` (e.g. "exchanges" gives "events" for exchanges.events).
  std::vector<std::string> subkeys(const std::string& prefix) const {
    Poco::Util::AbstractConfiguration::Keys keys;
    config_->keys(full(prefix), keys);
    return keys;
  }

  // Every key of the section, dotted (e.g. "exchanges.events").
  std::vector<std::string> allKeys() const {
    std::vector<std::string> out;
    collect("", out);
    return out;
  }

  // Throws ConfigError for the first key that is neither in `known` nor below one of `prefixes`
  // (a prefix "exchanges" admits "exchanges.<anything>").
  void rejectUnknownKeys(const std::set<std::string>& known,
                         const std::set<std::string>& prefixes = {}) const {
    for (const auto& key : allKeys()) {
      if (known.count(key) != 0) continue;
      auto dot = key.find('.');
      if (dot != std::string::npos && prefixes.count(key.substr(0, dot)) != 0) continue;
      std::vector<std::string> allowed(known.begin(), known.end());
      for (const auto& prefix : prefixes) allowed.push_back(prefix + ".<name>");
      std::vector<std::string> names(known.begin(), known.end());
      // A prefix mistyped: "exchange.events" is near "exchanges.events".
      for (const auto& prefix : prefixes) {
        names.push_back(dot == std::string::npos ? prefix : prefix + key.substr(dot));
      }
      throw ConfigError(file_ + ": [" + section_ + "] " + key + " is not a known key." +
                        didYouMean(key, names) + " The keys of [" + section_ +
                        "] are: " + join(allowed) + ".");
    }
  }

  // Throws ConfigError "<file>: [section] key <requirement>, found <found>".
  [[noreturn]] void fail(const std::string& key, const std::string& requirement,
                         const std::string& found) const {
    throw ConfigError(file_ + ": [" + section_ + "] " + key + " " + requirement + "; found " +
                      found);
  }

 private:
  std::string full(const std::string& key) const {
    return key.empty() ? section_ : section_ + "." + key;
  }

  void collect(const std::string& prefix, std::vector<std::string>& out) const {
    Poco::Util::AbstractConfiguration::Keys keys;
    config_->keys(full(prefix), keys);
    for (const auto& key : keys) {
      if (key.empty()) {
        // A key with an empty part ("[http.]" then "a = 1" is "http..a"): named as it is and
        // not followed, since its children are this level's again.
        out.push_back(prefix.empty() ? "." : prefix + ".");
        continue;
      }
      std::string dotted = prefix.empty() ? key : prefix + "." + key;
      Poco::Util::AbstractConfiguration::Keys children;
      config_->keys(full(dotted), children);
      if (children.empty()) {
        out.push_back(dotted);
      } else {
        collect(dotted, out);
      }
    }
  }

  static std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
  }

  Poco::AutoPtr<Poco::Util::AbstractConfiguration> config_;
  std::string file_;
  std::string section_;
};

}  // namespace busbar
