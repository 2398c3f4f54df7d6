#include "transport_fixture.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <thread>

#include <Poco/UUIDGenerator.h>

#include "contract_fixture.h"

namespace busbar::conformance {

namespace {

using busbar::testing::TcpProxy;

constexpr char kEventType[] = "ConformanceTested";

}  // namespace

std::string newUuid() { return Poco::UUIDGenerator::defaultGenerator().createRandom().toString(); }

bool within(std::chrono::seconds bound, const std::function<bool()>& condition) {
  const auto until = std::chrono::steady_clock::now() + bound;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= until) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

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

std::string Server::unavailable() const {
  auto health = std::dynamic_pointer_cast<TransportHealth>(transport);
  return health ? health->unavailable() : std::string();
}

void Server::stop() {
  stopWithin(instance, "server " + id);
  sink->close();
  transport.reset();
}

void TransportContract::SetUp() {
  const auto& exchanges = pluginUnderTest().exchanges();
  ASSERT_FALSE(exchanges.empty())
      << "the config file names no exchange: add [event_bus] exchanges.<alias> = <name>";
  alias_ = exchanges.begin()->first;
  exchange_ = exchanges.begin()->second;
  token_ = uniqueTableName("c").substr(2);
  shared_queue_ = "conformance_" + uniqueTableName("q").substr(2);
  const auto proxied = pluginUnderTest().sectionKeys("conformance");
  for (const auto& [key, value] : proxied) {
    if (key == "broker") broker_ = value;
    if (key.rfind("through_proxy.", 0) == 0) through_proxy_[key.substr(14)] = value;
  }
  ASSERT_NO_FATAL_FAILURE(askThePlugin());
}

void TransportContract::TearDown() {
  // Deliveries a test left waiting must end, or the stops would wait on them.
  for (auto& server : servers_) server->sink->release();
  for (auto it = servers_.rbegin(); it != servers_.rend(); ++it) (*it)->stop();
}

void TransportContract::askThePlugin() {
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

HostInfo TransportContract::hostFor(const std::string& name, Consume consume,
                                    const std::string* queue) const {
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

Server& TransportContract::startServer(const std::string& name, Consume consume,
                                       const TcpProxy* proxy) {
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

std::unique_ptr<TcpProxy> TransportContract::proxyToBroker() {
  const auto colon = broker_.rfind(':');
  if (colon == std::string::npos) {
    throw std::invalid_argument("[conformance] broker must be HOST:PORT, found '" + broker_ + "'");
  }
  auto proxy =
      std::make_unique<TcpProxy>(broker_.substr(0, colon), std::stoi(broker_.substr(colon + 1)));
  proxy->start();
  return proxy;
}

Event TransportContract::eventOf(const Server& server, int64_t n) const {
  Event event;
  event.type = kEventType;
  event.id = newUuid();
  event.origin = server.id;
  event.version = n;
  event.payload->set("n", n);
  return event;
}

void TransportContract::publish(Server& server, int64_t from, int64_t to) {
  for (int64_t n = from; n <= to; ++n) server.transport->publish(exchange_, eventOf(server, n));
}

std::set<EventKey> TransportContract::keysOf(const Server& server, int64_t from, int64_t to) {
  std::set<EventKey> keys;
  for (int64_t n = from; n <= to; ++n) keys.insert({server.id, n});
  return keys;
}

void TransportContract::waitConnected(const Server& server) {
  EXPECT_TRUE(within(kHang, [&] { return server.unavailable().empty(); }))
      << "server " << server.id << " did not connect: " << server.unavailable();
}

}  // namespace busbar::conformance
