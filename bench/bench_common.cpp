#include "bench_common.h"

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

namespace busbar::bench {
[[noreturn]] void fail(const std::string& message) {
  std::cerr << "busbar-bench: " << message << "\n";
  std::exit(1);
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void raiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

Reply request(Poco::Net::HTTPClientSession& session, const std::string& method,
              const std::string& path, const std::string& body) {
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  req.setKeepAlive(true);
  if (!body.empty()) {
    req.setContentType("application/json");
    req.setContentLength(static_cast<std::streamsize>(body.size()));
  }
  session.sendRequest(req) << body;
  Poco::Net::HTTPResponse response;
  std::istream& stream = session.receiveResponse(response);
  Reply reply;
  reply.status = response.getStatus();
  Poco::StreamCopier::copyToString(stream, reply.body);
  return reply;
}

int64_t delivered(Poco::Net::HTTPClientSession& session) {
  Reply reply = request(session, "GET", "/health");
  if (reply.status != 200) fail("GET /health answered " + std::to_string(reply.status));
  Poco::JSON::Parser parser;
  auto object = parser.parse(reply.body).extract<Poco::JSON::Object::Ptr>();
  return object->getObject("events")->getValue<Poco::Int64>("delivered");
}

std::string userId(long n) {
  char id[32];
  std::snprintf(id, sizeof id, "u%07ld", n);
  return id;
}

}  // namespace busbar::bench
