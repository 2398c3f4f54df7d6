// busbar-bench: the measuring tools bench/run drives. Every loop is bounded (a count or a
// duration) and every connection goes to 127.0.0.1.
//
//   serve PORT FILE                     baseline: a bare Poco HTTPServer (a thread per
//                                       connection) answering every request with FILE's bytes
//   serve-reactor PORT FILE             baseline: Poco's SocketReactor, one per core behind a
//                                       ParallelSocketAcceptor, answering every request head
//                                       with FILE's bytes (no parsing beyond finding its end)
//   idle PORT COUNT SECONDS             opens COUNT keep-alive connections, sends GET
//                                       /users/u0000001 on each and reads the answer, prints
//                                       "ready <open> <errors>", holds them SECONDS
//   start PORT LOG -- CMD ARGS...       execs CMD (output to LOG), prints "<ms> <pid>" once
//                                       GET /health on PORT answers 200, leaves it running
//   put PORT RATE SECONDS IDS [WATCH_PORT]
//                                       paced PUT /users/u<n> at RATE/s over 16 keep-alive
//                                       connections; prints sent, achieved rate, p50/p99 us;
//                                       with WATCH_PORT, also how long after its answer every
//                                       50th write is served by that server (p50/p99/max us,
//                                       samples, missed after 5 s)
//   publish AMQP_URL EXCHANGE COUNT RATE IDS [WINDOW]
//                                       publishes COUNT UserWasUpdated envelopes (RATE 0 = as
//                                       fast as possible; WINDOW > 0 = publisher confirms, at
//                                       most WINDOW unconfirmed); prints count, seconds, rate
//   publisher AMQP_URL EXCHANGE COUNT IDS
//                                       the amqp transport's own publisher (plugins/amqp
//                                       AmqpPublisher, busbar's settings) publishing COUNT user
//                                       events, no HTTP or database in front; prints count,
//                                       seconds, confirmed/s, CPU us per event of this process
//   attack KIND PORT CONNECTIONS SECONDS
//                                       a hostile load (hostile_clients.h: pipeline, trailer,
//                                       slowloris) for SECONDS
//   apply AMQP_URL EXCHANGE COUNT IDS PORT TIMEOUT
//                                       publishes COUNT events unpaced, waits until the server
//                                       on PORT has delivered COUNT more; prints count, seconds,
//                                       applied/s, us per event (or "timeout" and how many)
// AMQP_URL: amqp://user:password@127.0.0.1:5672/vhost (vhost not escaped; "/" is the default).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/NObserver.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ParallelSocketAcceptor.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketNotification.h>
#include <Poco/Net/SocketReactor.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>
#include <Poco/UUIDGenerator.h>

#include "busbar/event.h"
#include "hostile_clients.h"
#include "outgoing_message.h"
#include "publisher.h"
#include "visibility_watcher.h"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& message) {
  std::cerr << "busbar-bench: " << message << "\n";
  std::exit(1);
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- serve -------------------------------------------------------------------------------------

std::string readFile(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail("cannot read " + file);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class FixedHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit FixedHandler(const std::string& body) : body_(body) {}
  void handleRequest(Poco::Net::HTTPServerRequest&,
                     Poco::Net::HTTPServerResponse& response) override {
    response.setContentType("application/json; charset=utf-8");
    response.sendBuffer(body_.data(), body_.size());
  }

 private:
  const std::string& body_;
};

class FixedFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit FixedFactory(std::string body) : body_(std::move(body)) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new FixedHandler(body_);
  }

 private:
  std::string body_;
};

int serve(int port, const std::string& file) {
  std::string body = readFile(file);
  Poco::Net::ServerSocket socket;
  socket.bind(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)), true);
  socket.listen(1024);
  // The thread-per-connection settings busbar used before its event loops (64 threads).
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(64);
  params->setMaxQueued(256);
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(0);
  params->setKeepAliveTimeout(Poco::Timespan(15, 0));
  params->setServerName("busbar");
  Poco::ThreadPool threads(2, 66);
  Poco::Net::HTTPServer server(new FixedFactory(body), threads, socket, params);
  server.start();
  // Runs until bench/run sends SIGTERM; pause() returns on the signal.
  pause();
  return 0;
}

// ---- serve-reactor -----------------------------------------------------------------------------

// One connection on a SocketReactor: answers each request head with the same bytes.
class ReactorConnection {
 public:
  using Readable = Poco::NObserver<ReactorConnection, Poco::Net::ReadableNotification>;

  ReactorConnection(Poco::Net::StreamSocket& socket, Poco::Net::SocketReactor& reactor)
      : socket_(socket), reactor_(reactor) {
    reactor_.addEventHandler(socket_, Readable(*this, &ReactorConnection::onReadable));
  }
  ~ReactorConnection() {
    reactor_.removeEventHandler(socket_, Readable(*this, &ReactorConnection::onReadable));
  }

  void onReadable(const Poco::AutoPtr<Poco::Net::ReadableNotification>&) {
    char chunk[8192];
    int n = 0;
    try {
      n = socket_.receiveBytes(chunk, sizeof chunk);
    } catch (const Poco::Exception&) {
      n = 0;
    }
    if (n <= 0) {
      delete this;
      return;
    }
    pending_.append(chunk, static_cast<size_t>(n));
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) != std::string::npos) {
      pending_.erase(0, end + 4);
      socket_.sendBytes(response->data(), static_cast<int>(response->size()));
    }
  }

  static const std::string* response;

 private:
  Poco::Net::StreamSocket socket_;
  Poco::Net::SocketReactor& reactor_;
  std::string pending_;
};
const std::string* ReactorConnection::response = nullptr;

int serveReactor(int port, const std::string& file) {
  const std::string body = readFile(file);
  const std::string response =
      "HTTP/1.1 200 OK\r\nServer: busbar\r\nContent-Type: application/json; charset=utf-8\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  ReactorConnection::response = &response;
  Poco::Net::ServerSocket socket;
  socket.bind(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)), true);
  socket.listen(4096);
  Poco::Net::SocketReactor acceptor_reactor;
  Poco::Net::ParallelSocketAcceptor<ReactorConnection, Poco::Net::SocketReactor> acceptor(
      socket, acceptor_reactor, std::max(1u, std::thread::hardware_concurrency()));
  // Runs until bench/run sends SIGTERM.
  acceptor_reactor.run();
  return 0;
}

// ---- idle --------------------------------------------------------------------------------------

void raiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int idle(int port, int count, double seconds) {
  raiseOpenFileLimit();
  std::vector<std::unique_ptr<Poco::Net::StreamSocket>> sockets;
  const std::string request = "GET /users/u0000001 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  int errors = 0;
  for (int i = 0; i < count; ++i) {
    try {
      auto socket = std::make_unique<Poco::Net::StreamSocket>(
          Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
      socket->setReceiveTimeout(Poco::Timespan(10, 0));
      socket->sendBytes(request.data(), static_cast<int>(request.size()));
      std::string answer;
      char chunk[4096];
      // The answer is small: its head and body come together.
      while (answer.find("\r\n\r\n") == std::string::npos) {
        const int n = socket->receiveBytes(chunk, sizeof chunk);
        if (n <= 0) throw Poco::Exception("closed");
        answer.append(chunk, static_cast<size_t>(n));
      }
      if (answer.rfind("HTTP/1.1 200", 0) != 0) throw Poco::Exception(answer.substr(0, 40));
      sockets.push_back(std::move(socket));
    } catch (const Poco::Exception&) {
      ++errors;
    }
  }
  std::printf("ready %zu %d\n", sockets.size(), errors);
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  return 0;
}

// ---- HTTP helpers ------------------------------------------------------------------------------

struct Reply {
  int status = 0;
  std::string body;
};

Reply request(Poco::Net::HTTPClientSession& session, const std::string& method,
              const std::string& path, const std::string& body = "") {
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

// ---- start -------------------------------------------------------------------------------------

bool healthy(int port) {
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    session.setTimeout(Poco::Timespan(1, 0));
    return request(session, "GET", "/health").status == 200;
  } catch (const Poco::Exception&) {
    return false;
  }
}

int start(int port, const std::string& log, char** argv) {
  auto started = Clock::now();
  pid_t pid = fork();
  if (pid < 0) fail("fork failed");
  if (pid == 0) {
    setsid();  // bench/run stops it by pid; it must not die with this tool
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execv(argv[0], argv);
    _exit(127);
  }
  // A refused connection costs microseconds: poll often so the figure is the server's, not ours.
  while (secondsSince(started) < 60) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) fail("the server exited; see " + log);
    if (healthy(port)) {
      std::printf("%.1f %d\n", secondsSince(started) * 1000.0, pid);
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  kill(pid, SIGKILL);
  fail("not ready within 60 s; see " + log);
}

// ---- put ---------------------------------------------------------------------------------------

std::string userId(long n) {
  char id[32];
  std::snprintf(id, sizeof id, "u%07ld", n);
  return id;
}

int put(int port, double rate, double seconds, long ids, int watch_port) {
  constexpr int kConnections = 16;  // a slow write must not hold back the schedule
  constexpr long kWatchEvery = 50;  // the watcher polls; every write would load that server
  const long total = static_cast<long>(rate * seconds);
  std::vector<std::vector<double>> latencies(kConnections);
  std::atomic<long> errors{0};
  std::unique_ptr<busbar::bench::VisibilityWatcher> watcher;
  if (watch_port > 0) {
    watcher =
        std::make_unique<busbar::bench::VisibilityWatcher>(watch_port, std::chrono::seconds(5));
  }
  auto started = Clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < kConnections; ++w) {
    workers.emplace_back([&, w] {
      Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
      session.setKeepAlive(true);  // else Poco closes the connection after every request
      std::mt19937_64 random(w + 1);
      // Open loop: request i is due at started + i/rate, whatever the previous ones took.
      for (long i = w; i < total; i += kConnections) {
        auto due = started + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(i / rate));
        std::this_thread::sleep_until(due);
        std::string id = userId(static_cast<long>(random() % ids));
        auto sent = Clock::now();
        try {
          Reply reply = request(session, "PUT", "/users/" + id,
                                "{\"name\":\"Paced " + std::to_string(i) + "\",\"email\":\"" + id +
                                    "@example.org\"}");
          if (reply.status != 200 && reply.status != 201) {
            ++errors;
          } else if (watcher && i % kWatchEvery == 0) {
            watcher->watch(id, busbar::bench::versionIn(reply.body), Clock::now());
          }
        } catch (const Poco::Exception&) {
          ++errors;
          session.reset();
        }
        latencies[w].push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
      }
    });
  }
  for (auto& worker : workers) worker.join();
  double elapsed = secondsSince(started);
  std::vector<double> all;
  for (auto& part : latencies) all.insert(all.end(), part.begin(), part.end());
  std::sort(all.begin(), all.end());
  auto at = [&](double q) {
    return all.empty() ? 0.0 : all[static_cast<size_t>(q * (all.size() - 1))];
  };
  std::printf("sent %zu rate %.1f p50_us %.0f p99_us %.0f errors %ld", all.size(),
              all.size() / elapsed, at(0.5), at(0.99), errors.load());
  if (watcher) {
    auto visible = watcher->finish();
    const auto& delays = visible.delays_us;
    auto delay = [&](double q) {
      return delays.empty() ? 0.0 : delays[static_cast<size_t>(q * (delays.size() - 1))];
    };
    std::printf(
        " visible_p50_us %.0f visible_p99_us %.0f visible_max_us %.0f visible_count %zu"
        " visible_missed %ld",
        delay(0.5), delay(0.99), delay(1.0), delays.size(), visible.missed);
  }
  std::printf("\n");
  return errors.load() == 0 ? 0 : 1;
}

// ---- AMQP --------------------------------------------------------------------------------------

struct AmqpUrl {
  std::string user = "guest", password = "guest", host = "127.0.0.1", vhost = "/";
  int port = 5672;
};

AmqpUrl parseUrl(const std::string& url) {
  const std::string scheme = "amqp://";
  if (url.rfind(scheme, 0) != 0) fail("AMQP URL must start with amqp://");
  AmqpUrl parsed;
  std::string rest = url.substr(scheme.size());
  auto at = rest.find('@');
  if (at != std::string::npos) {
    std::string credentials = rest.substr(0, at);
    auto colon = credentials.find(':');
    parsed.user = credentials.substr(0, colon);
    if (colon != std::string::npos) parsed.password = credentials.substr(colon + 1);
    rest = rest.substr(at + 1);
  }
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos && slash + 1 < rest.size()) parsed.vhost = rest.substr(slash + 1);
  auto colon = hostport.find(':');
  parsed.host = hostport.substr(0, colon);
  if (colon != std::string::npos) parsed.port = std::stoi(hostport.substr(colon + 1));
  return parsed;
}

void check(amqp_rpc_reply_t reply, const char* what) {
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) fail(std::string("AMQP ") + what + " failed");
}

class Publisher {
 public:
  Publisher(const AmqpUrl& url, std::string exchange, int window)
      : exchange_(std::move(exchange)), window_(window) {
    state_ = amqp_new_connection();
    amqp_socket_t* socket = amqp_tcp_socket_new(state_);
    if (socket == nullptr || amqp_socket_open(socket, url.host.c_str(), url.port) != 0) {
      fail("cannot connect to the broker at " + url.host + ":" + std::to_string(url.port));
    }
    check(amqp_login(state_, url.vhost.c_str(), 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
                     url.user.c_str(), url.password.c_str()),
          "login");
    amqp_channel_open(state_, 1);
    check(amqp_get_rpc_reply(state_), "channel.open");
    if (window_ > 0) {
      amqp_confirm_select(state_, 1);
      check(amqp_get_rpc_reply(state_), "confirm.select");
    }
  }
  ~Publisher() {
    amqp_channel_close(state_, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(state_);
  }

  void publish(const std::string& type, const std::string& id, const std::string& body) {
    amqp_basic_properties_t props;
    std::memset(&props, 0, sizeof props);
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_APP_ID_FLAG |
                   AMQP_BASIC_TIMESTAMP_FLAG;
    props.content_type = amqp_cstring_bytes("application/json");
    props.delivery_mode = 2;
    props.type = amqp_cstring_bytes(type.c_str());
    props.message_id = amqp_cstring_bytes(id.c_str());
    props.app_id = amqp_cstring_bytes("busbar-bench");
    props.timestamp = static_cast<uint64_t>(time(nullptr));
    amqp_bytes_t payload{body.size(), const_cast<char*>(body.data())};
    if (amqp_basic_publish(state_, 1, amqp_cstring_bytes(exchange_.c_str()), amqp_empty_bytes, 0, 0,
                           &props, payload) != AMQP_STATUS_OK) {
      fail("basic.publish failed");
    }
    ++published_;
    if (window_ > 0) waitConfirms(static_cast<uint64_t>(window_) - 1);
  }

  // Waits until at most `left` messages are unconfirmed.
  void waitConfirms(uint64_t left) {
    while (window_ > 0 && published_ - confirmed_ > left) {
      amqp_frame_t frame;
      timeval timeout{10, 0};
      if (amqp_simple_wait_frame_noblock(state_, &frame, &timeout) != AMQP_STATUS_OK) {
        fail("no publisher confirm within 10 s");
      }
      if (frame.frame_type != AMQP_FRAME_METHOD) continue;
      if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
        auto* ack = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
        confirmed_ = ack->multiple ? ack->delivery_tag : std::max(confirmed_, ack->delivery_tag);
      } else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
        fail("the broker nacked a message");
      }
      amqp_maybe_release_buffers(state_);
    }
  }

 private:
  amqp_connection_state_t state_;
  std::string exchange_;
  int window_;
  uint64_t published_ = 0;
  uint64_t confirmed_ = 0;
};

std::string isoNow() {
  auto now = std::chrono::system_clock::now();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  time_t seconds = static_cast<time_t>(us / 1000000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(us % 1000000));
  return text;
}

// One UserWasUpdated envelope (docs/events.md). Versions come from the clock so every event is
// newer than what any server holds and is really applied, run after run.
std::string envelope(const std::string& event_id, long user, int64_t version) {
  std::string id = userId(user);
  std::ostringstream out;
  out << R"({"type":"UserWasUpdated","id":")" << event_id << R"(","occurred_on":")" << isoNow()
      << R"(","origin":"busbar-bench","version":)" << version << R"(,"payload":{"id":")" << id
      << R"(","name":"Event )" << version << R"(","email":")" << id << R"(@example.org","version":)"
      << version << "}}";
  return out.str();
}

int64_t clockVersion() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void publishMany(Publisher& publisher, long count, double rate, long ids) {
  auto& uuids = Poco::UUIDGenerator::defaultGenerator();
  std::mt19937_64 random(42);
  const int64_t base = clockVersion();
  auto started = Clock::now();
  for (long i = 0; i < count; ++i) {
    if (rate > 0) {
      std::this_thread::sleep_until(started + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(i / rate)));
    }
    std::string event_id = uuids.createRandom().toString();
    publisher.publish("UserWasUpdated", event_id,
                      envelope(event_id, static_cast<long>(random() % ids), base + i));
  }
  publisher.waitConfirms(0);
}

int publish(const std::string& url, const std::string& exchange, long count, double rate, long ids,
            int window) {
  Publisher publisher(parseUrl(url), exchange, window);
  auto started = Clock::now();
  publishMany(publisher, count, rate, ids);
  double elapsed = secondsSince(started);
  std::printf("published %ld seconds %.3f rate %.0f\n", count, elapsed, count / elapsed);
  return 0;
}

double cpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// What a server's amqp transport does per dispatched event: build the envelope, queue it, let
// the publisher thread publish it under confirms. The producer keeps within the queue's capacity,
// as a server whose writes outpace the broker would see drops instead.
int publisherAlone(const std::string& url, const std::string& exchange, long count, long ids) {
  AmqpUrl broker = parseUrl(url);
  busbar::amqp::PublisherOptions options;
  options.connection.brokers = {{broker.host, broker.port}};
  options.connection.vhost = broker.vhost;
  options.connection.user = broker.user;
  options.connection.password = broker.password;
  options.connection_name = "busbar-bench publisher";
  options.exchanges = {exchange};
  busbar::amqp::AmqpPublisher publisher(options, Poco::Logger::get("bench"), [] {});
  publisher.start();

  auto& uuids = Poco::UUIDGenerator::defaultGenerator();
  const int64_t base = clockVersion();
  const auto headroom = static_cast<uint64_t>(options.queue_capacity / 2);
  const double cpu_before = cpuSeconds();
  auto started = Clock::now();
  for (long i = 0; i < count; ++i) {
    while (static_cast<uint64_t>(i) - publisher.confirmed() >= headroom) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    busbar::Event event;
    event.type = "UserWasUpdated";
    event.id = uuids.createRandom().toString();
    event.origin = "busbar-bench";
    event.version = base + i;
    char id[24];
    std::snprintf(id, sizeof id, "u%07ld", i % ids);
    event.payload->set("id", std::string(id));
    event.payload->set("name", "Bench " + std::to_string(i));
    event.payload->set("email", std::string(id) + "@example.org");
    event.payload->set("version", event.version);
    if (!publisher.enqueue(busbar::amqp::messageForEvent(exchange, event))) {
      fail("the publisher dropped an event");
    }
  }
  while (publisher.confirmed() < static_cast<uint64_t>(count)) {
    if (secondsSince(started) > 120) fail("confirms did not arrive within 120 s");
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const double elapsed = secondsSince(started);
  const double cpu = cpuSeconds() - cpu_before;
  publisher.stop();
  std::printf("confirmed %ld seconds %.3f rate %.0f cpu_us_per_event %.1f\n", count, elapsed,
              count / elapsed, cpu * 1e6 / count);
  return 0;
}

int apply(const std::string& url, const std::string& exchange, long count, long ids, int port,
          double timeout) {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
  session.setKeepAlive(true);
  const int64_t before = delivered(session);
  Publisher publisher(parseUrl(url), exchange, 0);
  auto started = Clock::now();
  std::thread producer([&] { publishMany(publisher, count, 0, ids); });
  int64_t now = before;
  // 5 ms polls: at most 5 ms of error on runs that last a second or more.
  while (now - before < count && secondsSince(started) < timeout) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    now = delivered(session);
  }
  double elapsed = secondsSince(started);
  producer.join();
  if (now - before < count) {
    std::printf("timeout applied %lld of %ld in %.3f s\n", static_cast<long long>(now - before),
                count, elapsed);
    return 2;
  }
  std::printf("applied %ld seconds %.3f rate %.0f us_per_event %.1f\n", count, elapsed,
              count / elapsed, elapsed * 1e6 / count);
  return 0;
}

int usage() {
  std::cerr << "usage: busbar-bench serve PORT FILE | serve-reactor PORT FILE |\n"
               "       idle PORT COUNT SECONDS | start PORT LOG -- CMD ARGS... |\n"
               "       put PORT RATE SECONDS IDS [WATCH_PORT] |\n"
               "       publish AMQP_URL EXCHANGE COUNT RATE IDS [WINDOW] |\n"
               "       publisher AMQP_URL EXCHANGE COUNT IDS |\n"
               "       apply AMQP_URL EXCHANGE COUNT IDS PORT TIMEOUT |\n"
               "       attack pipeline|trailer|slowloris PORT CONNECTIONS SECONDS\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string command = argv[1];
  try {
    if (command == "serve" && argc == 4) return serve(std::stoi(argv[2]), argv[3]);
    if (command == "serve-reactor" && argc == 4) return serveReactor(std::stoi(argv[2]), argv[3]);
    if (command == "idle" && argc == 5) {
      return idle(std::stoi(argv[2]), std::stoi(argv[3]), std::stod(argv[4]));
    }
    if (command == "start" && argc >= 6 && std::string(argv[4]) == "--") {
      return start(std::stoi(argv[2]), argv[3], argv + 5);
    }
    if (command == "put" && (argc == 6 || argc == 7)) {
      return put(std::stoi(argv[2]), std::stod(argv[3]), std::stod(argv[4]), std::stol(argv[5]),
                 argc == 7 ? std::stoi(argv[6]) : 0);
    }
    if (command == "publish" && (argc == 7 || argc == 8)) {
      return publish(argv[2], argv[3], std::stol(argv[4]), std::stod(argv[5]), std::stol(argv[6]),
                     argc == 8 ? std::stoi(argv[7]) : 0);
    }
    if (command == "publisher" && argc == 6) {
      return publisherAlone(argv[2], argv[3], std::stol(argv[4]), std::stol(argv[5]));
    }
    if (command == "attack" && argc == 6) {
      raiseOpenFileLimit();
      const int code = busbar::bench::attack(argv[2], std::stoi(argv[3]), std::stoi(argv[4]),
                                             std::stod(argv[5]));
      if (code != 2) return code;
    }
    if (command == "apply" && argc == 8) {
      return apply(argv[2], argv[3], std::stol(argv[4]), std::stol(argv[5]), std::stoi(argv[6]),
                   std::stod(argv[7]));
    }
  } catch (const std::exception& error) {
    fail(error.what());
  }
  return usage();
}
