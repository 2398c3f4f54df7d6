// TlsClient, for tests: an HTTPS client over OpenSSL that writes raw bytes and reads whole
// responses (ResponseReader), verifying the server's certificate against a CA file and the
// address 127.0.0.1, as a client that checks certificates does.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "http/http_test_client.h"
#include "http/tls_context.h"

namespace busbar::host::testing {

class TlsClient : public ResponseReader {
 public:
  // Connects to 127.0.0.1:`port` and ends the handshake, offering the ALPN protocols `alpn`
  // (wire format: each name after its length; "" offers none). On failure (refused, the
  // certificate not trusted) throws std::runtime_error with OpenSSL's reason.
  TlsClient(uint16_t port, const std::string& ca_file, const std::string& alpn = "",
            int timeout_seconds = 5) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{timeout_seconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect to port " + std::to_string(port) + " failed");
    }
    ERR_clear_error();
    context_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(context_, ca_file.c_str(), nullptr) != 1) {
      fail("cannot load the CA file " + ca_file);
    }
    ssl_ = SSL_new(context_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    if (!alpn.empty()) {
      SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(alpn.data()),
                          static_cast<unsigned int>(alpn.size()));
    }
    SSL_set_fd(ssl_, fd_);
    if (SSL_connect(ssl_) != 1) {
      fail("TLS handshake failed (" +
           std::string(X509_verify_cert_error_string(SSL_get_verify_result(ssl_))) + ")");
    }
  }
  ~TlsClient() override { release(); }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  void write(const std::string& bytes) {
    size_t written = 0;
    while (written < bytes.size()) {
      const int n =
          SSL_write(ssl_, bytes.data() + written, static_cast<int>(bytes.size() - written));
      if (n <= 0) throw std::runtime_error("TLS write failed");
      written += static_cast<size_t>(n);
    }
  }

  // The protocol ALPN agreed on ("" without one).
  std::string alpn() const {
    const unsigned char* protocol = nullptr;
    unsigned int size = 0;
    SSL_get0_alpn_selected(ssl_, &protocol, &size);
    return std::string(reinterpret_cast<const char*>(protocol), size);
  }

 protected:
  int receive(char* chunk, int size) override {
    const int n = SSL_read(ssl_, chunk, size);
    if (n > 0) return n;
    const int error = SSL_get_error(ssl_, n);
    if (error == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)) return kTimedOut;
    return 0;  // the end (close_notify or not), or a reset
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    const std::string reason = takeOpenSslErrors("no reason given");
    release();
    throw std::runtime_error(what + ": " + reason);
  }
  void release() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (context_ != nullptr) SSL_CTX_free(context_);
    if (fd_ >= 0) ::close(fd_);
    ssl_ = nullptr;
    context_ = nullptr;
    fd_ = -1;
  }

  int fd_ = -1;
  SSL_CTX* context_ = nullptr;
  SSL* ssl_ = nullptr;
};

}  // namespace busbar::host::testing
