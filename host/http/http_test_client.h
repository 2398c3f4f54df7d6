// RawClient, for tests: writes raw bytes to a server and reads whole responses, so that the HTTP
// rules are checked byte by byte over a real socket. ResponseReader is the reading half, which
// TlsClient (tls_test_client.h) shares.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>

#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

namespace busbar::host::testing {

// Reads HTTP/1.1 responses from what receive() gives.
class ResponseReader {
 public:
  virtual ~ResponseReader() = default;

  struct Response {
    std::string status_line;
    std::string headers;  // raw header block
    std::string body;
  };

  // Reads one response (Content-Length framed; `head`: the answer to a HEAD has no body). On end
  // of stream or timeout before a whole head, returns an empty status_line.
  Response read(bool head = false) {
    Response response;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return response;
    }
    std::string block = buffer_.substr(0, end + 2);
    buffer_.erase(0, end + 4);
    response.status_line = block.substr(0, block.find("\r\n"));
    response.headers = block.substr(block.find("\r\n") + 2);
    size_t length = 0;
    auto at = lower(response.headers).find("content-length:");
    if (at != std::string::npos) length = std::stoul(response.headers.substr(at + 15));
    if (head) length = 0;
    while (buffer_.size() < length) {
      if (!fill()) break;
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, std::min(length, buffer_.size()));
    return response;
  }

  // True when the server closed the connection (end of stream or reset) with nothing more to
  // read; false when a byte came, or nothing within the timeout.
  bool closedByServer() {
    timed_out_ = false;
    return buffer_.empty() && !fill() && !timed_out_;
  }

  // `text` in lower case (header names are case-insensitive).
  static std::string lower(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }

 protected:
  enum : int { kTimedOut = -1 };
  // Receives up to `size` bytes: how many, 0 at the end of the stream or a reset, or kTimedOut.
  virtual int receive(char* chunk, int size) = 0;

 private:
  bool fill() {
    char chunk[4096];
    const int n = receive(chunk, sizeof chunk);
    if (n == kTimedOut) timed_out_ = true;
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  std::string buffer_;
  bool timed_out_ = false;
};

class RawClient : public ResponseReader {
 public:
  explicit RawClient(uint16_t port, int timeout_seconds = 5)
      : socket_(Poco::Net::SocketAddress("127.0.0.1", port)) {
    socket_.setReceiveTimeout(Poco::Timespan(timeout_seconds, 0));
  }

  void write(const std::string& bytes) {
    socket_.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  }

  // No more bytes from this side; the server still may answer.
  void shutdownSend() { socket_.shutdownSend(); }

 protected:
  int receive(char* chunk, int size) override {
    try {
      return std::max(socket_.receiveBytes(chunk, size), 0);
    } catch (const Poco::TimeoutException&) {
      return kTimedOut;
    } catch (const Poco::Exception&) {
      return 0;  // reset
    }
  }

 private:
  Poco::Net::StreamSocket socket_;
};

}  // namespace busbar::host::testing
