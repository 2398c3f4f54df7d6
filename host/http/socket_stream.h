// SocketStream: the bytes of one connection of an event loop, on a non-blocking socket: plain, or
// TLS over it (OpenSSL, the handshake advanced step by step as the socket allows). HttpConnection
// reads and writes through it and never sees which.
//
// Over TLS a read may have to wait for the socket to take bytes (a TLS 1.3 key update's answer),
// and a write may read; both only report it, and the connection tries again on its socket's next
// event, whichever it is. Writes never raise SIGPIPE.
//
// Thread-safety: none; one loop's thread.
#pragma once

#include <cstddef>
#include <string>

#include <openssl/ssl.h>

namespace busbar::host {

class SocketStream {
 public:
  enum class Status {
    kDone,         // bytes moved (or the handshake ended)
    kWouldBlock,   // try again on the socket's next event
    kEndOfStream,  // the peer closed its side (reads)
    kFailed,       // the connection is broken (reset, a TLS error): close it
  };
  struct Result {
    Status status;
    size_t bytes = 0;
    // A read only: the socket had no more to give (plain: a short read). A TLS read cannot tell;
    // its next read reports kWouldBlock instead.
    bool drained = false;
  };

  // Takes `fd`, a connected non-blocking socket; with `tls` (not null), the stream is the server
  // side of a TLS connection whose handshake() must end first.
  SocketStream(int fd, SSL_CTX* tls);
  ~SocketStream();  // closes the socket
  SocketStream(const SocketStream&) = delete;
  SocketStream& operator=(const SocketStream&) = delete;

  int fd() const { return fd_; }
  bool encrypted() const { return tls_; }

  // TLS only: advances the handshake. kDone once it ended; kFailed with failure() saying why.
  Status handshake();
  // Reads up to `size` bytes into `buffer`.
  Result read(char* buffer, size_t size);
  // Writes up to `size` bytes of `data`.
  Result write(const char* data, size_t size);
  // Reads and drops up to `size` bytes of what arrives, as they come on the socket (encrypted or
  // not): a connection that lingers after its last answer.
  Result discard(char* buffer, size_t size);
  // Ends the sending side after what was written (TLS: close_notify first, if it fits now).
  void shutdownWrite();
  // Closes the socket; the stream must not be used after.
  void close();

  // Why the last kFailed handshake failed.
  const std::string& failure() const { return failure_; }

 private:
  // Reads from the socket itself.
  Result receive(char* buffer, size_t size, int flags = 0);
  // What an SSL call that returned `returned` (not a success) means.
  Status tlsStatus(int returned);

  int fd_;
  const bool tls_;
  SSL* ssl_ = nullptr;
  bool broken_ = false;  // a fatal TLS error: no close_notify may follow
  std::string failure_;
};

}  // namespace busbar::host
