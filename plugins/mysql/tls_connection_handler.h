// TLS for the sessions that Poco's MySQL connector opens, through a libmariadb connection handler.
//
// Poco 1.11's MySQL connector takes no TLS keys, and its session connects inside its own
// constructor, so nothing can set libmariadb's TLS options on the handle between mysql_init and
// mysql_real_connect. libmariadb offers a hook at exactly that point: a connection handler plugin,
// chosen by the scheme of the host ("busbar_tls://..."), gets the handle instead of the connect.
// This handler looks up the TLS profile the host names, sets its options on the handle, connects
// as libmariadb would and refuses a session that ended up without TLS. After the connect it
// passes every command through untouched; a reconnect is refused (busbar opens a new session).
//
// Thread-safe: profiles are added under a lock and never removed (one per distinct TLS setting);
// libmariadb calls the handler from whichever thread opens a session.
#pragma once

#include <string>

#include "mysql_tls.h"

namespace busbar::mysql {

// Registers the handler with libmariadb, once per process; mysql_library_init must have run
// (registerMysqlConnector does both). Throws std::runtime_error with libmariadb's reason when it
// refuses the handler.
void registerTlsConnectionHandler();

// The host to give Poco's connector so that its sessions reach `host` with `tls`: `host` itself
// when TLS is disabled, else "busbar_tls://N@host", N naming a profile equal to `tls` that the
// process keeps from then on (added by this call when there is none yet).
std::string hostWithTlsProfile(const std::string& host, const MysqlTls& tls);

}  // namespace busbar::mysql
