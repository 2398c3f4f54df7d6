#include "test_certificates.h"

#include <sys/stat.h>

#include <stdexcept>

namespace busbar::testing {

TestCertificates::TestCertificates() {
  // Readable by the servers' own users (postgres, rabbitmq) that load files from here.
  ::chmod(dir_.path().c_str(), 0755);
  run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=busbar test CA' -keyout '" +
      dir_.path() + "/ca.key' -out '" + caFile() + "'");
}

IssuedCertificate TestCertificates::issue(const std::string& name, const std::string& common_name,
                                          const std::string& alt_names) const {
  const std::string base = dir_.path() + "/" + name;
  IssuedCertificate issued{base + ".crt", base + ".key"};
  std::string extensions =
      "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
      "extendedKeyUsage=serverAuth,clientAuth\n";
  if (!alt_names.empty()) extensions += "subjectAltName=" + alt_names + "\n";
  dir_.write(name + ".ext", extensions);
  run("openssl req -newkey rsa:2048 -nodes -subj '/CN=" + common_name + "' -keyout '" + issued.key +
      "' -out '" + base + ".csr'");
  run("openssl x509 -req -in '" + base + ".csr' -CA '" + caFile() + "' -CAkey '" + dir_.path() +
      "/ca.key' -CAcreateserial -days 2 -extfile '" + base + ".ext' -out '" + issued.cert + "'");
  ::chmod(issued.key.c_str(), 0600);
  ::chmod(issued.cert.c_str(), 0644);
  return issued;
}

void TestCertificates::run(const std::string& command) const {
  std::string output;
  if (runShell(command + " 2>&1", output) != 0) {
    throw std::runtime_error("failed: " + command + "\n" + output);
  }
}

}  // namespace busbar::testing
