// TlsSettingsFixture: a folder with a CA file, a client certificate and its key (mode 0600) for
// the tests of a storage plugin's TLS keys, and `read`/`errorOf` that run the plugin's reader
// `Read` on a [storage] section of host.conf in that folder.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <sstream>
#include <string>

#include <Poco/Util/IniFileConfiguration.h>

#include "busbar/config.h"
#include "server_process.h"

namespace busbar::testing {

template <typename Tls, Tls (*Read)(const ConfigSection&)>
class TlsSettingsFixture : public ::testing::Test {
 protected:
  TlsSettingsFixture() {
    ca_ = dir_.write("ca.crt", "-----BEGIN CERTIFICATE-----\n");
    cert_ = dir_.write("client.crt", "-----BEGIN CERTIFICATE-----\n");
    key_ = dir_.write("client.key", "-----BEGIN PRIVATE KEY-----\n");
    ::chmod(key_.c_str(), 0600);
  }

  // What `Read` makes of [storage] holding `keys`; throws what it throws.
  Tls read(const std::string& keys) {
    std::istringstream in("[storage]\n" + keys);
    Poco::AutoPtr<Poco::Util::AbstractConfiguration> config(
        new Poco::Util::IniFileConfiguration(in));
    return Read(ConfigSection(config, dir_.path() + "/host.conf", "storage"));
  }

  // The ConfigError's message, or "accepted".
  std::string errorOf(const std::string& keys) {
    try {
      read(keys);
    } catch (const ConfigError& error) {
      return error.what();
    }
    return "accepted";
  }

  // How each error begins: the file and the section.
  std::string file() const { return dir_.path() + "/host.conf: [storage] "; }

  TempDir dir_;
  std::string ca_;
  std::string cert_;
  std::string key_;
};

}  // namespace busbar::testing
