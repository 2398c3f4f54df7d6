// TestCertificates: a certificate authority of one test's own and the certificates it signs, made
// with the openssl command line in a folder of their own, for the TLS tests. Two instances are
// two CAs that do not know each other (the "wrong CA" of a test).
//
// Not thread-safe; one test thread drives it.
#pragma once

#include <string>

#include "server_process.h"

namespace busbar::testing {

struct IssuedCertificate {
  std::string cert;  // PEM certificate file
  std::string key;   // PEM private key file, mode 0600
};

class TestCertificates {
 public:
  // Makes the CA (ca.crt, ca.key). Throws std::runtime_error with openssl's output on failure.
  TestCertificates();

  // The CA's certificate file: what a client trusts (sslrootcert, a CA file).
  std::string caFile() const { return dir_.path() + "/ca.crt"; }

  // A certificate signed by the CA for `common_name`, with the subject alternative names
  // `alt_names` (e.g. "IP:127.0.0.1,DNS:localhost"; empty: none), in files NAME.crt and NAME.key.
  IssuedCertificate issue(const std::string& name, const std::string& common_name,
                          const std::string& alt_names) const;

  const std::string& folder() const { return dir_.path(); }

 private:
  void run(const std::string& command) const;

  TempDir dir_;
};

}  // namespace busbar::testing
