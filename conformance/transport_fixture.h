// TransportContract: the fixture of the transport suite (transport_contract.cpp), whose parameter
// is the name of the plugin under test. A test starts servers, each an instance of the plugin with
// a server_id of its own, the exchanges of the config's [event_bus] and a RecordingSink; TearDown
// stops them, each within a bound. Beside it, what the tests share: Server, Consume, kHang and the
// helpers within(), missing(), stopWithin() and newUuid(). The fixture is used by one test thread
// at a time; what it hands out (a server's transport and sink) is as thread-safe as the plugin and
// RecordingSink; within() may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "busbar/transport.h"
#include "plugin_under_test.h"
#include "recording_sink.h"
#include "tcp_proxy.h"

namespace busbar::conformance {

// Bounds that only tell a hang from a slow broker; no test asserts a time.
constexpr std::chrono::seconds kHang{60};

// Polls `condition` every 10 ms until it holds or `bound` passes; returns the last result.
bool within(std::chrono::seconds bound, const std::function<bool()>& condition);

// A random UUID as text: an event's id.
std::string newUuid();

// Describes which of `expected` a server has not heard, for a failure message.
std::string missing(const std::set<EventKey>& expected, const std::set<EventKey>& heard);

// Destroys `instance` (the plugin's stop(), then its destruction) on a thread of its own, and
// waits at most kHang for it. A stop that hangs fails the test and ends the run, because the
// plugin's threads would go on using this test's sinks.
void stopWithin(std::unique_ptr<PluginInstance>& instance, const std::string& what);

// One server of a test: an instance of the plugin, its sink, its transport.
struct Server {
  std::string id;
  std::unique_ptr<RecordingSink> sink;
  std::unique_ptr<PluginInstance> instance;
  std::shared_ptr<Transport> transport;

  // The transport's own word on its link: "" while it can carry events.
  std::string unavailable() const;

  // Stops and destroys the instance (bounded), then closes its sink (a later delivery fails the
  // test) and drops the transport.
  void stop();
};

// How a server consumes the test's exchange, as --exchange says.
enum class Consume {
  kNothing,  // no --exchange: it only publishes
  kOwn,      // --exchange ALIAS: a queue of its own, it hears every event
  kShared,   // --exchange ALIAS:QUEUE: it takes turns with the other servers naming QUEUE
};

class TransportContract : public ::testing::TestWithParam<std::string> {
 protected:
  // Reads the config's first exchange and its [conformance] keys, and asks what the plugin's
  // transport implements; on a config that names no exchange, fails the test.
  void SetUp() override;
  // Releases the deliveries a test left waiting, then stops the servers, the last started first.
  void TearDown() override;

  // True for an in-process transport (see kInProcess): the test is skipped with that reason.
  bool notBetweenServers() const { return !between_servers_; }
  static constexpr const char* kInProcess =
      "the transport does not implement busbar::TransportHealth, so it has no link to a broker "
      "the host can see: the suite takes it for an in-process transport (as the bundled local "
      "one), which carries events within its own server only; this contract is between servers "
      "or about the link. A transport over a broker implements TransportHealth "
      "(docs/plugins.md, section 3)";

  // The config lets the suite put a proxy between an instance and the broker.
  bool canProxy() const { return !broker_.empty() && !through_proxy_.empty(); }
  static constexpr const char* kNoProxy =
      "the config file has no [conformance] broker = HOST:PORT and through_proxy.<key> = "
      "... {proxy_port} keys, so the suite cannot cut an instance's link to the broker";

  // A server of this test named `name`, started. With `proxy`, it reaches the broker through it.
  Server& startServer(const std::string& name, Consume consume,
                      const busbar::testing::TcpProxy* proxy = nullptr);

  // A proxy in front of the config's broker, forwarding. On a config whose broker is not
  // HOST:PORT, throws std::invalid_argument.
  std::unique_ptr<busbar::testing::TcpProxy> proxyToBroker();

  // Event number `n` of `server`.
  Event eventOf(const Server& server, int64_t n) const;

  // Publishes `server`'s events from..to (inclusive) to the test's exchange.
  void publish(Server& server, int64_t from, int64_t to);

  // The keys of `server`'s events from..to (inclusive).
  static std::set<EventKey> keysOf(const Server& server, int64_t from, int64_t to);

  // Waits (bounded) until `server`'s link is up, where the plugin tells; fails the test if not.
  void waitConnected(const Server& server);

  std::string exchange_;      // the exchange of the config's first alias: tests publish there
  std::string shared_queue_;  // the queue this test's kShared servers take turns on
  // What the plugin's transport implements: a link the host can see (TransportHealth),
  // SequencedTransport, AttributedTransport.
  bool between_servers_ = false;
  bool sequenced_ = false;
  bool attributed_ = false;

 private:
  // Asks a probe instance, once per run, what the plugin's transport implements.
  void askThePlugin();
  // What the host tells the instance of server `name`: its id and exchanges, and what it consumes
  // (`queue`, for kShared).
  HostInfo hostFor(const std::string& name, Consume consume, const std::string* queue) const;

  std::string alias_;
  std::string token_;
  std::string broker_;
  std::map<std::string, std::string> through_proxy_;
  std::vector<std::unique_ptr<Server>> servers_;
};

}  // namespace busbar::conformance
