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

// The login methods allowed where the server may turn out to offer no TLS (required,
// verify_ca): those that never send the password itself, so that whoever answers in the server's
// place gets no password by asking for mysql_clear_password, dialog or an RSA key of its own.
constexpr char kLoginsWithoutThePassword[] = "mysql_native_password,client_ed25519";

bool operator==(const MysqlTls& a, const MysqlTls& b) {
  return a.mode == b.mode && a.ca == b.ca && a.cert == b.cert && a.key == b.key;
}

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

// The profile that `target` ("N@host") names and the host after it; nullptr when it names none.
const MysqlTls* profileOf(const char* target, const char** host) {
  if (target == nullptr) return nullptr;
  const char* at = std::strchr(target, '@');
  char* end = nullptr;
  const unsigned long index = std::strtoul(target, &end, 10);
  if (at == nullptr || end == target || end != at) return nullptr;
  *host = at + 1;
  return findProfile(index);
}

// Sets `tls` on a handle that has not connected yet; false when libmariadb refuses an option.
bool setTlsOptions(MYSQL* mysql, const MysqlTls& tls) {
  const my_bool on = 1;
  const my_bool verify_identity = tls.mode == MysqlTlsMode::kVerifyIdentity;
  // With the identity check libmariadb refuses a server without TLS before the login. Without it
  // libmariadb logs in in the clear when the server offers no TLS (connectWithTls refuses the
  // session afterwards), so the login may use no method that sends the password itself. With a
  // CA file libmariadb verifies the server's chain in every mode.
  bool ok = mysql_optionsv(mysql, MYSQL_OPT_SSL_ENFORCE, &on) == 0 &&
            mysql_optionsv(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify_identity) == 0;
  if (!verify_identity) {
    // The restriction covers the first method too: start with the one MariaDB greets with, so
    // that a server greeting with another (MySQL 8: caching_sha2_password) can still switch a
    // mysql_native_password user to it.
    ok = ok && mysql_optionsv(mysql, MARIADB_OPT_RESTRICTED_AUTH, kLoginsWithoutThePassword) == 0 &&
         mysql_optionsv(mysql, MYSQL_DEFAULT_AUTH, "mysql_native_password") == 0;
  }
  if (!tls.ca.empty()) ok = ok && mysql_optionsv(mysql, MYSQL_OPT_SSL_CA, tls.ca.c_str()) == 0;
  if (!tls.cert.empty()) {
    ok = ok && mysql_optionsv(mysql, MYSQL_OPT_SSL_CERT, tls.cert.c_str()) == 0 &&
         mysql_optionsv(mysql, MYSQL_OPT_SSL_KEY, tls.key.c_str()) == 0;
  }
  return ok;
}

// libmariadb's call in place of the connect, with `target` = "N@host" from the host's URL. The
// errors begin "TLS/SSL error:", as libmariadb's own, which is how connect_failure.cpp tells a TLS
// failure from the others.
MYSQL* connectWithTls(MYSQL* mysql, const char* target, const char* user, const char* password,
                      const char* database, unsigned int port, const char* unix_socket,
                      unsigned long client_flags) noexcept {
  const char* host = nullptr;
  const MysqlTls* tls = profileOf(target, &host);
  if (tls == nullptr) {
    mysql->methods->set_error(mysql, CR_CONNECTION_ERROR, "HY000",
                              "busbar: no TLS profile in host '%s'", target ? target : "");
    return nullptr;
  }
  if (!setTlsOptions(mysql, *tls)) {
    mysql->methods->set_error(mysql, CR_SSL_CONNECTION_ERROR, "HY000",
                              "TLS/SSL error: libmariadb refused a TLS option");
    return nullptr;
  }
  if (mysql->methods->db_connect(mysql, host, user, password, database, port, unix_socket,
                                 client_flags) == nullptr) {
    return nullptr;
  }
  if (mysql_get_ssl_cipher(mysql) == nullptr) {
    mysql->methods->set_error(mysql, CR_SSL_CONNECTION_ERROR, "HY000",
                              "TLS/SSL error: SSL is required, but the server does not support it");
    return nullptr;  // mysql_close, when Poco drops the handle, ends the session
  }
  return mysql;
}

// Every command after the connect goes on as it is (0: not handled here).
int passCommand(MYSQL*, enum enum_server_command, const char*, size_t, my_bool, void*) noexcept {
  return 0;
}

// libmariadb's own reconnect would connect to the plain host without the check above; busbar's
// sessions never reconnect (auto-reconnect=false: the pool opens a new one), and this keeps it so.
my_bool refuseReconnect(MYSQL* mysql) noexcept {
  mysql->methods->set_error(mysql, CR_SERVER_LOST, "HY000",
                            "busbar: a TLS session does not reconnect; open a new one");
  return 1;
}

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
  handler.reconnect = refuseReconnect;
  return handler;
}

}  // namespace

void registerTlsConnectionHandler() {
  // libmariadb keeps this address for the process. The host never unloads a plugin; the mysql
  // plugin is linked -z nodelete besides, so that the address stays valid whatever loads it.
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

std::string hostWithTlsProfile(const std::string& host, const MysqlTls& tls) {
  if (tls.mode == MysqlTlsMode::kDisabled) return host;
  std::lock_guard<std::mutex> lock(profiles_mutex);
  std::size_t index = 0;
  while (index < profiles().size() && !(profiles()[index] == tls)) ++index;
  if (index == profiles().size()) profiles().push_back(tls);
  return std::string(kScheme) + "://" + std::to_string(index) + "@" + host;
}

}  // namespace busbar::mysql
