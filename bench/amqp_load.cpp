// AMQP load of busbar-bench over rabbitmq-c: envelopes published as fast as asked (with or
// without confirms), the amqp transport's own publisher alone, and how fast a server applies.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/UUIDGenerator.h>

#include "bench_commands.h"
#include "bench_common.h"
#include "busbar/event.h"
#include "outgoing_message.h"
#include "publisher.h"

namespace busbar::bench {

namespace {

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

double cpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int publish(const std::string& url, const std::string& exchange, long count, double rate, long ids,
            int window) {
  Publisher publisher(parseUrl(url), exchange, window);
  auto started = Clock::now();
  publishMany(publisher, count, rate, ids);
  double elapsed = secondsSince(started);
  std::printf("published %ld seconds %.3f rate %.0f\n", count, elapsed, count / elapsed);
  return 0;
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

}  // namespace busbar::bench
