// The transport's contract (busbar-conformance transport), over the Transport a transport plugin
// provides as "transport": several servers in one process, each an instance of the plugin with a
// server_id of its own, the exchanges of the config's [event_bus] and a recording InboundSink.
//
// What it checks: every server hears every event; each producer's events arrive in the order it
// published them; a shared queue's events that a member took and never acknowledged (its
// delivery failed, then it stopped) reach the other member; a lost link to the broker ends in
// InboundSink::reconnected() and events flowing again; stop() returns while a delivery waits in
// the sink and while the broker holds what was published, and nothing is delivered after it
// returned; SequencedTransport, when implemented, settles each event once, true once the broker
// confirmed it, and carries its place in the event log to the consumers; AttributedTransport
// (SDK 1.6), when implemented, carries each event's principal to the consumers.
//
// Which tests apply: a transport that implements TransportHealth has a link to something outside
// the process (a broker): every test applies. One without it has no link the host can see, as the
// bundled local transport, which carries events within its own server only: the tests between
// servers and those about the link are skipped, saying so. The tests that cut the link need a
// proxy in front of the broker, which the config's [conformance] section describes:
//
//   [conformance]
//   broker = 127.0.0.1:5672               ; where the plugin's section reaches the broker
//   through_proxy.port = {proxy_port}     ; keys that make an instance reach it through a proxy
//   through_proxy.host = 127.0.0.1        ; ({proxy_port}: the port the suite's proxy listens on)
//
// The tests share the broker of the run's config: each names its servers (origin of its events)
// and its shared queue after a token of its own, and counts only its own events.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <Poco/UUIDGenerator.h>
#include <gtest/gtest.h>

#include "busbar/transport.h"
#include "contract_fixture.h"
#include "tcp_proxy.h"

namespace busbar::conformance {
namespace {

using busbar::testing::TcpProxy;
using std::chrono::seconds;

// Bounds that only tell a hang from a slow broker; no test asserts a time.
constexpr seconds kHang{60};

constexpr char kEventType[] = "ConformanceTested";

// Where an event came from and its number there: how the tests tell their events apart.
using EventKey = std::pair<std::string, int64_t>;

// Polls `condition` every 10 ms until it holds or `bound` passes; returns the last result.
bool within(seconds bound, const std::function<bool()>& condition) {
  const auto until = std::chrono::steady_clock::now() + bound;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= until) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string newUuid() { return Poco::UUIDGenerator::defaultGenerator().createRandom().toString(); }

// The InboundSink of one server of a test: records what the transport delivers, and can make
// deliveries wait (hold) or fail (as subscribers that throw), as a test needs. Thread-safe.
class RecordingSink : public InboundSink {
 public:
  struct Heard {
    Event event;
    EventLogSeq at;
    bool sequenced = false;
    std::string principal;  // what the transport handed over with it (SDK 1.6), "" for none
  };

  explicit RecordingSink(std::string server) : server_(std::move(server)) {}

  void deliver(const Event& event) override { take(event, EventLogSeq{}, false, ""); }
  void deliverSequenced(const Event& event, const EventLogSeq& at) override {
    take(event, at, true, "");
  }
  void deliverAttributed(const Event& event, const std::string& principal) override {
    take(event, EventLogSeq{}, false, principal);
  }
  void deliverSequencedAttributed(const Event& event, const EventLogSeq& at,
                                  const std::string& principal) override {
    take(event, at, true, principal);
  }
  void reconnected() override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++reconnects_;
  }

  // From now on each delivery waits until release() or fail().
  void hold() { setMode(Mode::kHold, ""); }
  // Deliveries waiting and to come return normally.
  void release() { setMode(Mode::kPass, ""); }
  // Deliveries waiting and to come throw `why`, as a subscriber that fails: not delivered.
  void fail(const std::string& why) { setMode(Mode::kFail, why); }
  // Its instance stopped: a delivery from now on breaks the contract (the test fails).
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }

  // Deliveries waiting in hold() now.
  size_t waiting() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return waiting_;
  }
  // Deliveries that returned normally, in the order they returned.
  std::vector<Heard> heard() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return heard_;
  }
  // Every delivery the transport began, whatever became of it.
  std::vector<Heard> taken() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return taken_;
  }
  int reconnects() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return reconnects_;
  }

  // The keys of the events of `origins` heard (returned normally), duplicates once.
  std::set<EventKey> heardFrom(const std::set<std::string>& origins) const {
    std::set<EventKey> keys;
    for (const auto& heard : heard()) {
      if (origins.count(heard.event.origin) > 0) {
        keys.insert({heard.event.origin, heard.event.version});
      }
    }
    return keys;
  }

 private:
  enum class Mode { kPass, kHold, kFail };

  void setMode(Mode mode, const std::string& why) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      mode_ = mode;
      why_ = why;
    }
    changed_.notify_all();
  }

  void take(const Event& event, const EventLogSeq& at, bool sequenced,
            const std::string& principal) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (closed_) {
      ADD_FAILURE() << "the transport delivered " << event.type << " " << event.origin << "#"
                    << event.version << " to server " << server_
                    << " after that server's stop() returned";
      return;
    }
    taken_.push_back({event, at, sequenced, principal});
    ++waiting_;
    changed_.wait(lock, [this] { return mode_ != Mode::kHold; });
    --waiting_;
    if (mode_ == Mode::kFail) throw std::runtime_error(why_);
    heard_.push_back({event, at, sequenced, principal});
  }

  const std::string server_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  Mode mode_ = Mode::kPass;
  std::string why_;
  bool closed_ = false;
  size_t waiting_ = 0;
  int reconnects_ = 0;
  std::vector<Heard> heard_;
  std::vector<Heard> taken_;
};

// Destroys `instance` (the plugin's stop(), then its destruction) on a thread of its own, and
// waits at most kHang for it. A stop that hangs fails the test and ends the run, because the
// plugin's threads would go on using this test's sinks.
void stopWithin(std::unique_ptr<PluginInstance>& instance, const std::string& what) {
  if (!instance) return;
  std::atomic<bool> done{false};
  std::thread stopper(failsTheTestOnThrow([&] {
    instance.reset();
    done = true;
  }));
  if (!within(kHang, [&] { return done.load(); })) {
    ADD_FAILURE() << what << ": stop() did not return within " << kHang.count()
                  << " s; the run cannot go on (the plugin's threads still run)";
    std::cout << std::flush;
    std::fflush(nullptr);
    std::_Exit(1);
  }
  stopper.join();
}

// One server of a test: an instance of the plugin, its sink, its transport.
struct Server {
  std::string id;
  std::unique_ptr<RecordingSink> sink;
  std::unique_ptr<PluginInstance> instance;
  std::shared_ptr<Transport> transport;

  // The transport's own word on its link: "" while it can carry events.
  std::string unavailable() const {
    auto health = std::dynamic_pointer_cast<TransportHealth>(transport);
    return health ? health->unavailable() : std::string();
  }

  // Stops and destroys the instance (bounded); its sink then refuses deliveries, though this
  // object still holds the transport: its threads must have ended with stop().
  void stop() {
    stopWithin(instance, "server " + id);
    sink->close();
    transport.reset();
  }
};

// How a server consumes the test's exchange, as --exchange says.
enum class Consume {
  kNothing,  // no --exchange: it only publishes
  kOwn,      // --exchange ALIAS: a queue of its own, it hears every event
  kShared,   // --exchange ALIAS:QUEUE: it takes turns with the other servers naming QUEUE
};

class TransportContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const auto& exchanges = pluginUnderTest().exchanges();
    ASSERT_FALSE(exchanges.empty())
        << "the config file names no exchange: add [event_bus] exchanges.<alias> = <name>";
    alias_ = exchanges.begin()->first;
    exchange_ = exchanges.begin()->second;
    token_ = uniqueTableName("c").substr(2);
    const auto proxied = pluginUnderTest().sectionKeys("conformance");
    for (const auto& [key, value] : proxied) {
      if (key == "broker") broker_ = value;
      if (key.rfind("through_proxy.", 0) == 0) through_proxy_[key.substr(14)] = value;
    }
    ASSERT_NO_FATAL_FAILURE(askThePlugin());
  }

  void TearDown() override {
    // Deliveries a test left waiting must end, or the stops would wait on them.
    for (auto& server : servers_) server->sink->release();
    for (auto it = servers_.rbegin(); it != servers_.rend(); ++it) (*it)->stop();
  }

  // What the plugin's transport implements, asked once per run of a probe instance: whether it
  // has a link the host can see (TransportHealth), SequencedTransport and AttributedTransport.
  void askThePlugin() {
    static int between_servers = -1;
    static int sequenced = -1;
    static int attributed = -1;
    if (between_servers < 0) {
      auto probe = pluginUnderTest().start(
          {}, InstanceHost{hostFor("probe", Consume::kNothing, nullptr), nullptr});
      auto transport = probe->find<Transport>("transport");
      ASSERT_NE(transport, nullptr) << "the plugin provides no \"transport\" (a busbar::Transport)";
      between_servers = std::dynamic_pointer_cast<TransportHealth>(transport) ? 1 : 0;
      sequenced = std::dynamic_pointer_cast<SequencedTransport>(transport) ? 1 : 0;
      attributed = std::dynamic_pointer_cast<AttributedTransport>(transport) ? 1 : 0;
      stopWithin(probe, "the probe instance");
    }
    between_servers_ = between_servers == 1;
    sequenced_ = sequenced == 1;
    attributed_ = attributed == 1;
  }

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

  HostInfo hostFor(const std::string& name, Consume consume, const std::string* queue) const {
    HostInfo info;
    info.server_id = "conformance-" + token_ + "-" + name;
    info.exchanges = pluginUnderTest().exchanges();
    if (consume != Consume::kNothing) {
      ConsumedExchange consumed;
      consumed.alias = alias_;
      consumed.exchange = exchange_;
      if (consume == Consume::kShared) consumed.queue = *queue;
      info.consumed.push_back(consumed);
    }
    return info;
  }

  // A server of this test named `name`, started. With `proxy`, it reaches the broker through it.
  Server& startServer(const std::string& name, Consume consume, const TcpProxy* proxy = nullptr) {
    auto server = std::make_unique<Server>();
    HostInfo info = hostFor(name, consume, &shared_queue_);
    server->id = info.server_id;
    server->sink = std::make_unique<RecordingSink>(server->id);
    std::map<std::string, std::string> overrides;
    if (proxy != nullptr) {
      for (auto [key, value] : through_proxy_) {
        const std::string mark = "{proxy_port}";
        for (auto at = value.find(mark); at != std::string::npos; at = value.find(mark)) {
          value.replace(at, mark.size(), std::to_string(proxy->port()));
        }
        overrides[key] = value;
      }
    }
    server->instance = pluginUnderTest().start(overrides, InstanceHost{info, server->sink.get()});
    server->transport = server->instance->find<Transport>("transport");
    servers_.push_back(std::move(server));
    // A consumer whose first connection failed binds its queue on a later try; what was published
    // before is not its (the transport says so through reconnected()), so tests publish after.
    if (consume != Consume::kNothing && proxy == nullptr) waitConnected(*servers_.back());
    return *servers_.back();
  }

  // A proxy in front of the config's broker, forwarding.
  std::unique_ptr<TcpProxy> proxyToBroker() {
    const auto colon = broker_.rfind(':');
    if (colon == std::string::npos) {
      throw std::invalid_argument("[conformance] broker must be HOST:PORT, found '" + broker_ +
                                  "'");
    }
    auto proxy =
        std::make_unique<TcpProxy>(broker_.substr(0, colon), std::stoi(broker_.substr(colon + 1)));
    proxy->start();
    return proxy;
  }

  // Event number `n` of `server`.
  Event eventOf(const Server& server, int64_t n) const {
    Event event;
    event.type = kEventType;
    event.id = newUuid();
    event.origin = server.id;
    event.version = n;
    event.payload->set("n", n);
    return event;
  }

  // Publishes `server`'s events from..to (inclusive) to the test's exchange.
  void publish(Server& server, int64_t from, int64_t to) {
    for (int64_t n = from; n <= to; ++n) server.transport->publish(exchange_, eventOf(server, n));
  }

  static std::set<EventKey> keysOf(const Server& server, int64_t from, int64_t to) {
    std::set<EventKey> keys;
    for (int64_t n = from; n <= to; ++n) keys.insert({server.id, n});
    return keys;
  }

  // Waits (bounded) until `server`'s link is up, where the plugin tells.
  void waitConnected(const Server& server) {
    EXPECT_TRUE(within(kHang, [&] { return server.unavailable().empty(); }))
        << "server " << server.id << " did not connect: " << server.unavailable();
  }

  std::string alias_;
  std::string exchange_;
  std::string token_;
  std::string shared_queue_ = "conformance_" + uniqueTableName("q").substr(2);
  std::string broker_;
  std::map<std::string, std::string> through_proxy_;
  bool between_servers_ = false;
  bool sequenced_ = false;
  bool attributed_ = false;
  std::vector<std::unique_ptr<Server>> servers_;
};

// Describes which of `expected` a server has not heard, for a failure message.
std::string missing(const std::set<EventKey>& expected, const std::set<EventKey>& heard) {
  std::string text;
  int shown = 0;
  for (const auto& key : expected) {
    if (heard.count(key) > 0) continue;
    if (++shown > 5) {
      text += " ...";
      break;
    }
    text += " " + key.first + "#" + std::to_string(key.second);
  }
  return text.empty() ? " none" : text;
}

TEST_P(TransportContract, EveryServerHearsEveryEvent) {
  if (notBetweenServers()) GTEST_SKIP() << kInProcess;
  constexpr int kEach = 20;
  std::vector<Server*> servers;
  for (const char* name : {"a", "b", "c"}) servers.push_back(&startServer(name, Consume::kOwn));
  std::set<EventKey> all;
  std::set<std::string> origins;
  for (Server* server : servers) {
    publish(*server, 1, kEach);
    const auto keys = keysOf(*server, 1, kEach);
    all.insert(keys.begin(), keys.end());
    origins.insert(server->id);
  }
  for (Server* server : servers) {
    EXPECT_TRUE(within(kHang, [&] { return server->sink->heardFrom(origins) == all; }))
        << "server " << server->id << " heard " << server->sink->heardFrom(origins).size()
        << " of the " << all.size() << " events the three servers published; missing:"
        << missing(all, server->sink->heardFrom(origins));
  }
}

TEST_P(TransportContract, EachProducersEventsArriveInTheOrderItPublishedThem) {
  constexpr int kEach = 50;
  Server& consumer = startServer("consumer", Consume::kOwn);
  std::vector<Server*> producers;
  if (between_servers_) {
    producers.push_back(&startServer("p1", Consume::kNothing));
    producers.push_back(&startServer("p2", Consume::kNothing));
  } else {
    producers.push_back(&consumer);  // in-process: a server hears its own events only
  }
  std::set<EventKey> all;
  std::set<std::string> origins;
  // Interleaved, from two threads when there are two producers: their order between each other
  // is free, each one's own is not.
  std::vector<std::thread> threads;
  for (Server* producer : producers) {
    const auto keys = keysOf(*producer, 1, kEach);
    all.insert(keys.begin(), keys.end());
    origins.insert(producer->id);
    threads.emplace_back(failsTheTestOnThrow([this, producer] { publish(*producer, 1, kEach); }));
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(within(kHang, [&] { return consumer.sink->heardFrom(origins) == all; }))
      << "the consumer heard " << consumer.sink->heardFrom(origins).size() << " of " << all.size()
      << " events; missing:" << missing(all, consumer.sink->heardFrom(origins));
  // A redelivery may repeat an event; what is new must come in order.
  std::map<std::string, int64_t> last;
  for (const auto& heard : consumer.sink->heard()) {
    if (origins.count(heard.event.origin) == 0) continue;
    EXPECT_FALSE(heard.sequenced) << "an event handed to publish() reached the consumer through "
                                     "deliverSequenced(): it carries no place in the event log";
    int64_t& seen = last[heard.event.origin];
    if (heard.event.version <= seen) continue;
    EXPECT_EQ(heard.event.version, seen + 1)
        << heard.event.origin << "'s event #" << heard.event.version << " arrived after #" << seen
        << ", before #" << seen + 1;
    seen = heard.event.version;
  }
}

TEST_P(TransportContract, ASharedQueuesEventsAMemberTookAndNeverAcknowledgedReachTheOtherMember) {
  if (notBetweenServers()) GTEST_SKIP() << kInProcess;
  Server& dying = startServer("dying", Consume::kShared);
  Server& survivor = startServer("survivor", Consume::kShared);
  Server& producer = startServer("producer", Consume::kNothing);
  dying.sink->hold();
  // The members take turns as the broker hands the events out: publish until one reached the
  // member that will die.
  int64_t published = 0;
  for (int round = 0; round < 20 && dying.sink->waiting() == 0; ++round) {
    publish(producer, published + 1, published + 5);
    published += 5;
    within(seconds(2), [&] { return dying.sink->waiting() > 0; });
  }
  ASSERT_GT(dying.sink->waiting(), 0u)
      << "none of " << published << " events published to the shared queue " << shared_queue_
      << " reached one of its two members";
  // It dies with the delivery in hand: its subscribers fail (the event is not delivered) as it
  // stops. The failure comes once stop() began, so that a transport that retries failed
  // deliveries has no time to give up on the event before it stops.
  std::atomic<bool> stopping{false};
  std::thread failer(failsTheTestOnThrow([&] {
    within(kHang, [&] { return stopping.load(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    dying.sink->fail("the server died before its subscribers finished");
  }));
  stopping = true;
  dying.stop();
  failer.join();
  for (const auto& heard : dying.sink->heard()) {
    ADD_FAILURE() << "the dying member's sink returned for " << heard.event.origin << "#"
                  << heard.event.version << " although it was set to fail";
  }
  // What it took comes to the survivor, and so does what is published after it died.
  publish(producer, published + 1, published + 5);
  published += 5;
  const auto all = keysOf(producer, 1, published);
  std::set<EventKey> taken_by_dying;
  for (const auto& taken : dying.sink->taken()) {
    if (taken.event.origin == producer.id) {
      taken_by_dying.insert({taken.event.origin, taken.event.version});
    }
  }
  EXPECT_TRUE(within(kHang, [&] { return survivor.sink->heardFrom({producer.id}) == all; }))
      << "the survivor heard " << survivor.sink->heardFrom({producer.id}).size() << " of "
      << all.size() << " events; missing:" << missing(all, survivor.sink->heardFrom({producer.id}))
      << "; missing of those the dead member took unacknowledged:"
      << missing(taken_by_dying, survivor.sink->heardFrom({producer.id}));
}

TEST_P(TransportContract, ALostLinkEndsInReconnectedAndEventsFlowAgain) {
  if (notBetweenServers()) GTEST_SKIP() << kInProcess;
  if (!canProxy()) GTEST_SKIP() << kNoProxy;
  auto proxy = proxyToBroker();
  Server& cut_off = startServer("cut-off", Consume::kOwn, proxy.get());
  Server& producer = startServer("producer", Consume::kNothing);
  waitConnected(cut_off);
  publish(producer, 1, 1);
  ASSERT_TRUE(within(kHang, [&] { return cut_off.sink->heardFrom({producer.id}).size() == 1; }))
      << "the server behind the proxy heard nothing before the cut";
  const int before = cut_off.sink->reconnects();

  // The broker goes away for it (connections closed, new ones refused): what is published
  // meanwhile may be lost to it, so it must ask its subscribers to resynchronize.
  proxy->cut();
  EXPECT_TRUE(within(kHang, [&] { return !cut_off.unavailable().empty(); }))
      << "TransportHealth::unavailable() still says \"\" with the link to the broker cut";
  publish(producer, 2, 2);
  proxy->start();
  EXPECT_TRUE(within(kHang, [&] { return cut_off.sink->reconnects() > before; }))
      << "InboundSink::reconnected() was not called after the link to the broker was cut and "
         "came back (an event was published meanwhile)";
  waitConnected(cut_off);
  // Events flow again: a few, as a transport may take a moment to consume again after it
  // reconnected (an event published before that is what reconnected() covers).
  int64_t next = 3;
  EXPECT_TRUE(within(kHang, [&] {
    publish(producer, next, next);
    ++next;
    return within(seconds(1), [&] {
      for (const auto& key : cut_off.sink->heardFrom({producer.id})) {
        if (key.second >= 3) return true;
      }
      return false;
    });
  })) << "no event published after the link came back reached the server";
}

TEST_P(TransportContract, StopReturnsWhileADeliveryWaitsInTheSinkAndDeliversNothingAfter) {
  Server& consumer = startServer("consumer", Consume::kOwn);
  Server& producer = between_servers_ ? startServer("producer", Consume::kNothing) : consumer;
  consumer.sink->hold();
  publish(producer, 1, 10);
  ASSERT_TRUE(within(kHang, [&] { return consumer.sink->waiting() > 0; }))
      << "no delivery reached the consumer's sink";
  // As the host does at shutdown: stop() begins while the delivery waits (a subscriber busy,
  // the bus still preloading), and the host lets it go. The stop must then end, without
  // delivering the rest of the queue for ever, and nothing may be delivered after it returned
  // (the sink fails the test if it is).
  std::atomic<bool> stopping{false};
  std::thread releaser(failsTheTestOnThrow([&] {
    within(kHang, [&] { return stopping.load(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    consumer.sink->release();
  }));
  stopping = true;
  consumer.stop();
  releaser.join();
  if (&producer != &consumer) {
    publish(producer, 11, 12);
    // A server that still consumes hears these: give it the time to, from another one.
    Server& witness = startServer("witness", Consume::kOwn);
    waitConnected(witness);
    publish(producer, 13, 13);
    EXPECT_TRUE(within(kHang, [&] {
      return witness.sink->heardFrom({producer.id}).count({producer.id, 13}) > 0;
    })) << "a server started after the stop did not hear an event published after it";
  }
}

TEST_P(TransportContract, StopReturnsWhileTheBrokerHoldsWhatWasPublishedAndSettlesEachOnce) {
  if (notBetweenServers()) GTEST_SKIP() << kInProcess;
  if (!canProxy()) GTEST_SKIP() << kNoProxy;
  auto proxy = proxyToBroker();
  Server& publisher = startServer("publisher", Consume::kNothing, proxy.get());
  waitConnected(publisher);
  // A link that hangs (no FIN, no reset, as a lost network looks): nothing the transport sends
  // is answered, publishes pile up, confirms never come.
  proxy->partition(TcpProxy::Partition::kBoth);
  constexpr int kEvents = 5;
  std::mutex mutex;
  std::map<int64_t, int> settled_count;
  auto sequenced = std::dynamic_pointer_cast<SequencedTransport>(publisher.transport);
  const std::string log_id = newUuid();
  for (int64_t n = 1; n <= kEvents; ++n) {
    if (sequenced) {
      sequenced->publishSequenced(exchange_, eventOf(publisher, n),
                                  EventLogSeq{static_cast<uint64_t>(n), log_id, ""}, [&, n](bool) {
                                    std::lock_guard<std::mutex> lock(mutex);
                                    ++settled_count[n];
                                  });
    } else {
      publisher.transport->publish(exchange_, eventOf(publisher, n));
    }
  }
  publisher.stop();  // fails the test and ends the run if it hangs
  if (!sequenced) return;
  // "Calls settled exactly once, also when the transport stops first": by the time the instance
  // is gone, each event was settled, once.
  std::lock_guard<std::mutex> lock(mutex);
  for (int64_t n = 1; n <= kEvents; ++n) {
    EXPECT_EQ(settled_count[n], 1) << "event #" << n << " was settled " << settled_count[n]
                                   << " times by the time the stopped instance was destroyed";
  }
}

TEST_P(TransportContract, PublishSequencedSettlesTrueOnceConfirmedAndCarriesItsPlace) {
  if (!sequenced_) {
    GTEST_SKIP() << "the transport does not implement busbar::SequencedTransport (optional)";
  }
  Server& consumer = startServer("consumer", Consume::kOwn);
  Server& producer = between_servers_ ? startServer("producer", Consume::kNothing) : consumer;
  auto sequenced = std::dynamic_pointer_cast<SequencedTransport>(producer.transport);
  ASSERT_NE(sequenced, nullptr);
  constexpr int kEvents = 10;
  const std::string log_id = newUuid();
  std::mutex mutex;
  std::map<int64_t, std::vector<bool>> settled;
  for (int64_t n = 1; n <= kEvents; ++n) {
    sequenced->publishSequenced(
        exchange_, eventOf(producer, n),
        EventLogSeq{static_cast<uint64_t>(1000 + n), log_id, "req-" + std::to_string(n)},
        [&, n](bool confirmed) {
          std::lock_guard<std::mutex> lock(mutex);
          settled[n].push_back(confirmed);
        });
  }
  const auto all = keysOf(producer, 1, kEvents);
  ASSERT_TRUE(within(kHang, [&] { return consumer.sink->heardFrom({producer.id}) == all; }))
      << "the consumer heard " << consumer.sink->heardFrom({producer.id}).size() << " of "
      << kEvents << " events; missing:" << missing(all, consumer.sink->heardFrom({producer.id}));
  EXPECT_TRUE(within(kHang, [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return settled.size() == static_cast<size_t>(kEvents);
  })) << "not every event published with publishSequenced() was settled";
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (int64_t n = 1; n <= kEvents; ++n) {
      EXPECT_EQ(settled[n], std::vector<bool>{true})
          << "event #" << n << ": settled must be called once, with true, when the broker "
          << "confirmed it (the broker is up and the event was delivered)";
    }
  }
  for (const auto& heard : consumer.sink->heard()) {
    if (heard.event.origin != producer.id) continue;
    const auto n = heard.event.version;
    EXPECT_TRUE(heard.sequenced) << "event #" << n << " reached the consumer through deliver(), "
                                 << "not deliverSequenced(): its place in the log was lost";
    EXPECT_EQ(heard.at.seq, static_cast<uint64_t>(1000 + n)) << "event #" << n;
    EXPECT_EQ(heard.at.log_id, log_id) << "event #" << n;
    EXPECT_EQ(heard.at.request_id, "req-" + std::to_string(n)) << "event #" << n;
  }
}

TEST_P(TransportContract, AnAttributedTransportCarriesWhoCausedEachEvent) {
  if (!attributed_) {
    GTEST_SKIP() << "the transport does not implement busbar::AttributedTransport (optional, "
                    "SDK 1.6): other servers' subscribers get no principal";
  }
  Server& consumer = startServer("consumer", Consume::kOwn);
  Server& producer = between_servers_ ? startServer("producer", Consume::kNothing) : consumer;
  auto attributed = std::dynamic_pointer_cast<AttributedTransport>(producer.transport);
  auto sequenced = std::dynamic_pointer_cast<SequencedTransport>(producer.transport);
  ASSERT_NE(attributed, nullptr);
  // Odd events are caused by a token, even ones by nobody; with SequencedTransport the second
  // half is logged.
  constexpr int kEvents = 8;
  auto principalOf = [](int64_t n) { return n % 2 == 1 ? "deploy-" + std::to_string(n) : ""; };
  const std::string log_id = newUuid();
  for (int64_t n = 1; n <= kEvents; ++n) {
    if (sequenced_ && n > kEvents / 2) {
      attributed->publishSequencedAttributed(exchange_, eventOf(producer, n),
                                             EventLogSeq{static_cast<uint64_t>(n), log_id, ""},
                                             principalOf(n), [](bool) {});
    } else {
      attributed->publishAttributed(exchange_, eventOf(producer, n), principalOf(n));
    }
  }
  const auto all = keysOf(producer, 1, kEvents);
  ASSERT_TRUE(within(kHang, [&] { return consumer.sink->heardFrom({producer.id}) == all; }))
      << "the consumer heard " << consumer.sink->heardFrom({producer.id}).size() << " of "
      << kEvents << " events; missing:" << missing(all, consumer.sink->heardFrom({producer.id}));
  for (const auto& heard : consumer.sink->heard()) {
    if (heard.event.origin != producer.id) continue;
    const auto n = heard.event.version;
    EXPECT_EQ(heard.principal, principalOf(n))
        << "event #" << n << " was published by "
        << (heard.sequenced ? "publishSequenced" : "publish") << " with principal '"
        << principalOf(n)
        << "'; the consumer must hand it to InboundSink::deliver or deliverSequenced with that "
           "principal (\"\" for none)";
  }
}

INSTANTIATE_TEST_SUITE_P(Plugin, TransportContract, ::testing::ValuesIn(pluginUnderTestName()),
                         pluginParamName);

}  // namespace
}  // namespace busbar::conformance
