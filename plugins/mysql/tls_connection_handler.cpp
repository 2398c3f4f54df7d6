#include "tls_connection_handler.h"

#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>

// libmariadb's public plugin header; on Debian 12 it includes a ma_compress.h that the package
// does not install (compat/ supplies the one type it needs).
#include <errmsg.h>
#include <mysql.h>
#include <mysql/client_plugin.h>

namespace busbar::mysql {
namespace {

constexpr char kScheme[] = "busbar_tls";

std::mutex profiles_mutex;
// Stable addresses: a session may read its profile while another Connection adds one.
std::deque<MysqlTls>& profiles() {
  static auto* kept = new std::deque<MysqlTls>();
  return *kept;
}

const MysqlTls* findProfile(std::size_t index) {
  std::lock_guard<std::mutex> lock(profiles_mutex);
  return index < profiles().size() ? &profiles()[index] : nullptr;
}

// Sets `tls` on a handle that has not connected yet; false when libmariadb refuses an option.
bool setTlsOptions(MYSQL* mysql, const MysqlTls& tls) {
  const my_bool on = 1;
  const my_bool verify_identity = tls.mode == MysqlTlsMode::kVerifyIdentity;
  // Enforced: a server without TLS is refused rather than spoken to in the clear. With a CA file
  // libmariadb verifies the server's chain; the identity check adds its name against the host.
  bool ok = mysql_optionsv(mysql, MYSQL_OPT_SSL_ENFORCE, &on) == 0 &&
            mysql_optionsv(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify_identity) == 0;
  if (!tls.ca.empty()) ok = ok && mysql_optionsv(mysql, MYSQL_OPT_SSL_CA, tls.ca.c_str()) == 0;
  if (!tls.cert.empty()) {
    ok = ok && mysql_optionsv(mysql, MYSQL_OPT_SSL_CERT, tls.cert.c_str()) == 0 &&
         mysql_optionsv(mysql, MYSQL_OPT_SSL_KEY, tls.key.c_str()) == 0;
  }
  return ok;
}

// libmariadb's call in place of the connect, with `target` = "N@host" from the host's URL.
MYSQL* connectWithTls(MYSQL* mysql, const char* target, const char* user, const char* password,
                      const char* database, unsigned int port, const char* unix_socket,
                      unsigned long client_flags) {
  const char* at = std::strchr(target, '@');
  char* end = nullptr;
  const unsigned long index = std::strtoul(target, &end, 10);
  const MysqlTls* tls = at != nullptr && end == at ? findProfile(index) : nullptr;
  if (tls == nullptr) {
    mysql->methods->set_error(mysql, CR_CONNECTION_ERROR, "HY000",
                              "busbar: no TLS profile in host '%s'", target);
    return nullptr;
  }
  if (!setTlsOptions(mysql, *tls)) {
    mysql->methods->set_error(mysql, CR_SSL_CONNECTION_ERROR, "HY000",
                              "busbar: libmariadb refused a TLS option");
    return nullptr;
  }
  if (mysql->methods->db_connect(mysql, at + 1, user, password, database, port, unix_socket,
                                 client_flags) == nullptr) {
    return nullptr;
  }
  // libmariadb 3.3 goes on in the clear when the server offers no TLS, unless it checks the
  // server's identity: the session is refused here instead (mysql_close ends it).
  if (mysql_get_ssl_cipher(mysql) == nullptr) {
    mysql->methods->set_error(mysql, CR_SSL_CONNECTION_ERROR, "HY000",
                              "TLS/SSL error: SSL is required, but the server does not support it");
    return nullptr;
  }
  return mysql;
}

// Every command after the connect goes on as it is (0: not handled here).
int passCommand(MYSQL*, enum enum_server_command, const char*, size_t, my_bool, void*) { return 0; }

MARIADB_CONNECTION_PLUGIN makeHandler() {
  MARIADB_CONNECTION_PLUGIN handler{};
  handler.type = MARIADB_CLIENT_CONNECTION_PLUGIN;
  handler.interface_version = MARIADB_CLIENT_CONNECTION_PLUGIN_INTERFACE_VERSION;
  handler.name = kScheme;
  handler.author = "busbar";
  handler.desc = "TLS options for Poco's MySQL sessions";
  handler.version[0] = 1;
  handler.license = "BSL-1.0";
  handler.connect = connectWithTls;
  handler.set_connection = passCommand;
  return handler;
}

}  // namespace

void registerTlsConnectionHandler() {
  // libmariadb keeps this address for the process; the plugin is linked -z nodelete so that it
  // stays mapped.
  static MARIADB_CONNECTION_PLUGIN handler = makeHandler();
  static std::once_flag once;
  std::call_once(once, [] {
    MYSQL* mysql = mysql_init(nullptr);
    if (mysql == nullptr) throw std::runtime_error("mysql_init failed: out of memory");
    const bool registered =
        mysql_client_register_plugin(
            mysql, reinterpret_cast<struct st_mysql_client_plugin*>(&handler)) != nullptr;
    const std::string reason = registered ? "" : mysql_error(mysql);
    mysql_close(mysql);
    if (!registered) {
      throw std::runtime_error("libmariadb refused busbar's TLS connection handler: " + reason);
    }
  });
}

std::string tlsConnectHost(const std::string& host, const MysqlTls& tls) {
  if (tls.mode == MysqlTlsMode::kDisabled) return host;
  std::lock_guard<std::mutex> lock(profiles_mutex);
  profiles().push_back(tls);
  return std::string(kScheme) + "://" + std::to_string(profiles().size() - 1) + "@" + host;
}

}  // namespace busbar::mysql
