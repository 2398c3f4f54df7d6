#include "ops/config_report.h"

#include <Poco/JSON/Array.h>
#include <Poco/String.h>

namespace busbar::host {
namespace {

constexpr const char* kMask = "********";

void collectKeys(const Poco::Util::AbstractConfiguration& config, const std::string& prefix,
                 Poco::JSON::Object& out, const std::string& section) {
  Poco::Util::AbstractConfiguration::Keys keys;
  config.keys(prefix, keys);
  for (const auto& key : keys) {
    const std::string full = prefix + "." + key;
    Poco::Util::AbstractConfiguration::Keys children;
    config.keys(full, children);
    if (!children.empty()) {
      collectKeys(config, full, out, section);
      continue;
    }
    const std::string name = full.substr(section.size() + 1);
    const std::string value = Poco::trim(config.getRawString(full, ""));
    out.set(name,
            isSecretKey(name) && !value.empty() ? std::string(kMask) : maskUrlPasswords(value));
  }
}

}  // namespace

bool isSecretKey(const std::string& key) {
  const std::string lower = Poco::toLower(key.substr(key.rfind('.') + 1));
  for (const char* word : {"password", "passwd", "secret", "token", "credential", "passphrase"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return lower == "key" || (lower.size() > 4 && lower.compare(lower.size() - 4, 4, "_key") == 0);
}

std::string maskUrlPasswords(const std::string& value) {
  std::string out = value;
  size_t from = 0;
  for (;;) {
    const size_t scheme = out.find("://", from);
    if (scheme == std::string::npos) return out;
    const size_t start = scheme + 3;
    const size_t end = out.find_first_of("/?# ", start);
    const size_t at = out.rfind('@', end == std::string::npos ? out.size() : end);
    if (at == std::string::npos || at < start) {
      from = start;
      continue;
    }
    const size_t colon = out.find(':', start);
    if (colon != std::string::npos && colon < at) {
      out.replace(colon + 1, at - colon - 1, kMask);
      from = colon + 1 + std::string(kMask).size();
    } else {
      from = at;
    }
  }
}

Poco::JSON::Object::Ptr describeConfig(
    const Poco::AutoPtr<Poco::Util::AbstractConfiguration>& config, const HostSettings& settings) {
  Poco::JSON::Object::Ptr report = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  report->set("file", settings.config_file);
  Poco::JSON::Object::Ptr sections = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  Poco::Util::AbstractConfiguration::Keys names;
  config->keys(names);
  for (const auto& section : names) {
    Poco::JSON::Object::Ptr keys = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    collectKeys(*config, section, *keys, section);
    sections->set(section, keys);
  }
  report->set("sections", sections);

  Poco::JSON::Object::Ptr effective = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  effective->set("server_id", settings.server_id);
  effective->set("bind", settings.bind_host + ":" + std::to_string(settings.bind_port));
  effective->set("admin_bind",
                 settings.admin.bind_host + ":" + std::to_string(settings.admin.bind_port));
  Poco::JSON::Array::Ptr folders = new Poco::JSON::Array;
  for (const auto& folder : settings.plugin_dirs) folders->add(folder);
  effective->set("plugin_dirs", folders);
  Poco::JSON::Array::Ptr consumed = new Poco::JSON::Array;
  for (const auto& exchange : settings.consumed) {
    Poco::JSON::Object::Ptr entry = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    entry->set("alias", exchange.alias);
    entry->set("exchange", exchange.exchange);
    entry->set("queue", exchange.queue);
    consumed->add(entry);
  }
  effective->set("consumed", consumed);
  effective->set("log_level", settings.log.level_name);
  report->set("effective", effective);
  return report;
}

}  // namespace busbar::host
