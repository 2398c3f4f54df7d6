// TlsServerContext: a listener's TLS made ready for OpenSSL: its certificate chain and private
// key loaded and checked against each other when the listener is made, so that a bad file stops
// the host (ConfigError naming the key, the file, OpenSSL's reason and the fix) before it serves.
//
// Its settings: TLS 1.2 and 1.3 only, OpenSSL's default ciphers (the system's policy), ALPN
// answered with http/1.1, and buffers released while a connection is idle (ten thousand idle
// TLS clients would otherwise hold about 34 KiB each). Each process loads the files anew, so a
// reload (SIGHUP: a new process takes over) serves renewed certificates.
//
// Thread-safety: immutable once made; connections of every loop make their SSL from it.
#pragma once

#include <string>

#include <openssl/ssl.h>

#include "host_config.h"

namespace busbar::host {

class TlsServerContext {
 public:
  // `section` and `config_file` name where the settings came from, for the errors. On failure
  // throws ConfigError.
  TlsServerContext(const ListenerTlsSettings& settings, const std::string& section,
                   const std::string& config_file);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  SSL_CTX* get() const { return context_; }

 private:
  SSL_CTX* context_ = nullptr;
};

// OpenSSL's errors queued on this thread, oldest first, joined with "; " (the queue is emptied);
// `fallback` when there are none.
std::string takeOpenSslErrors(const std::string& fallback);

}  // namespace busbar::host
