#include "http/socket_stream.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include <openssl/err.h>

#include "http/tls_context.h"

namespace busbar::host {
namespace {

// OpenSSL's socket BIO writes with write(), which raises SIGPIPE on a connection the peer reset;
// this one sends with MSG_NOSIGNAL and takes the rest (reads, the descriptor) from it.
int sendNoSignal(BIO* bio, const char* data, int size) {
  int fd = -1;
  BIO_get_fd(bio, &fd);
  const ssize_t sent = ::send(fd, data, static_cast<size_t>(size), MSG_NOSIGNAL);
  BIO_clear_retry_flags(bio);
  if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    BIO_set_retry_write(bio);
  }
  return static_cast<int>(sent);
}

BIO_METHOD* socketMethod() {
  static BIO_METHOD* const method = [] {
    const BIO_METHOD* socket = BIO_s_socket();
    BIO_METHOD* own = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                   "busbar socket");
    BIO_meth_set_write(own, sendNoSignal);
    BIO_meth_set_read(own, BIO_meth_get_read(socket));
    BIO_meth_set_puts(own, BIO_meth_get_puts(socket));
    BIO_meth_set_ctrl(own, BIO_meth_get_ctrl(socket));
    BIO_meth_set_create(own, BIO_meth_get_create(socket));
    BIO_meth_set_destroy(own, BIO_meth_get_destroy(socket));
    return own;
  }();
  return method;
}

int clampedSize(size_t size) { return size > INT_MAX ? INT_MAX : static_cast<int>(size); }

}  // namespace

SocketStream::SocketStream(int fd, SSL_CTX* tls) : fd_(fd), tls_(tls != nullptr) {
  if (!tls_) return;
  ERR_clear_error();
  ssl_ = SSL_new(tls);
  BIO* bio = ssl_ != nullptr ? BIO_new(socketMethod()) : nullptr;
  if (bio == nullptr) {
    failure_ =
        "OpenSSL could not set the connection up (" + takeOpenSslErrors("out of memory?") + ")";
    broken_ = true;
    if (ssl_ != nullptr) SSL_free(ssl_);
    ssl_ = nullptr;
    return;
  }
  BIO_set_fd(bio, fd, BIO_NOCLOSE);
  SSL_set_bio(ssl_, bio, bio);
  SSL_set_accept_state(ssl_);
}

SocketStream::~SocketStream() { close(); }

void SocketStream::close() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

SocketStream::Status SocketStream::tlsStatus(int returned) {
  const int error = SSL_get_error(ssl_, returned);
  switch (error) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return Status::kWouldBlock;
    case SSL_ERROR_ZERO_RETURN:
      return Status::kEndOfStream;
    case SSL_ERROR_SYSCALL:
      broken_ = true;
      failure_ = errno != 0 ? std::strerror(errno) : "the connection ended";
      ERR_clear_error();
      return Status::kFailed;
    default:
      broken_ = true;
      failure_ = takeOpenSslErrors("TLS error " + std::to_string(error));
      return Status::kFailed;
  }
}

SocketStream::Status SocketStream::handshake() {
  if (ssl_ == nullptr) return Status::kFailed;
  ERR_clear_error();
  errno = 0;
  const int returned = SSL_do_handshake(ssl_);
  return returned == 1 ? Status::kDone : tlsStatus(returned);
}

SocketStream::Result SocketStream::read(char* buffer, size_t size) {
  // A TLS stream whose set-up failed has no SSL object: it fails, never falls back to plain text.
  if (!tls_) return receive(buffer, size);
  if (ssl_ == nullptr) return {Status::kFailed};
  ERR_clear_error();
  errno = 0;
  const int returned = SSL_read(ssl_, buffer, clampedSize(size));
  if (returned > 0) return {Status::kDone, static_cast<size_t>(returned)};
  return {tlsStatus(returned)};
}

SocketStream::Result SocketStream::discard(char* buffer, size_t size) {
  // On TCP, MSG_TRUNC drops the bytes in the kernel instead of copying them out.
  return receive(buffer, size, MSG_TRUNC);
}

SocketStream::Result SocketStream::receive(char* buffer, size_t size, int flags) {
  for (;;) {
    const ssize_t received = ::recv(fd_, buffer, size, flags);
    if (received > 0) {
      const auto bytes = static_cast<size_t>(received);
      return {Status::kDone, bytes, bytes < size};
    }
    if (received == 0) return {Status::kEndOfStream};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {Status::kWouldBlock};
    return {Status::kFailed};
  }
}

SocketStream::Result SocketStream::write(const char* data, size_t size) {
  if (!tls_) {
    for (;;) {
      const ssize_t sent = ::send(fd_, data, size, MSG_NOSIGNAL);
      if (sent >= 0) return {Status::kDone, static_cast<size_t>(sent)};
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {Status::kWouldBlock};
      return {Status::kFailed};
    }
  }
  if (ssl_ == nullptr) return {Status::kFailed};
  ERR_clear_error();
  errno = 0;
  const int returned = SSL_write(ssl_, data, clampedSize(size));
  if (returned > 0) return {Status::kDone, static_cast<size_t>(returned)};
  return {tlsStatus(returned)};
}

void SocketStream::shutdownWrite() {
  if (ssl_ != nullptr && !broken_ && SSL_is_init_finished(ssl_)) {
    // close_notify: the answer ended here, not cut. Not waited for: a full socket drops it.
    ERR_clear_error();
    SSL_shutdown(ssl_);
    ERR_clear_error();
  }
  ::shutdown(fd_, SHUT_WR);
}

}  // namespace busbar::host
