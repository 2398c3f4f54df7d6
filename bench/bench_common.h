// What the tools of busbar-bench share: failing, timing, the HTTP request they all make, and
// the ids of the seeded users.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <Poco/Net/HTTPClientSession.h>

namespace busbar::bench {

using Clock = std::chrono::steady_clock;

// Prints "busbar-bench: MESSAGE" on stderr and exits with status 1.
[[noreturn]] void fail(const std::string& message);

double secondsSince(Clock::time_point start);

// Raises this process's soft limit of open files to the hard limit (thousands of connections).
void raiseOpenFileLimit();

struct Reply {
  int status = 0;
  std::string body;
};

// One request on a keep-alive session; a JSON body when `body` is not empty.
Reply request(Poco::Net::HTTPClientSession& session, const std::string& method,
              const std::string& path, const std::string& body = "");

// The server's count of delivered events (GET /health); fails unless it answers 200.
int64_t delivered(Poco::Net::HTTPClientSession& session);

// The id of seeded user `n`: u0000001...
std::string userId(long n);

}  // namespace busbar::bench
