// stdout: a transport that writes every event it is handed as one JSON line on standard output,
// and delivers it to this server's subscribers, as a broker would hand it back.
//
// The line is the wire body of docs/events.md plus "exchange":
//   {"exchange":"busbar.events","id":"...","occurred_on":"2024-05-01T12:34:56.789Z",
//    "origin":"host:8000","payload":{...},"type":"UserWasCreated","version":1}
// publish() only queues the event (a transport must not block its caller); the SDK's
// DeliveryQueue writes the lines in order on a thread of its own, then delivers each event into
// the host's InboundSink, so subscribers hear events with async_pass_through = false too. With
// pass-through on, the host drops those deliveries, having delivered the events already.
//
// [stdout] queue_capacity = events waiting to be written (default 65536); when full, an event is
// dropped, counted, logged, and subscribers are told to resynchronize (delivery_queue.h).
#include <cstdio>
#include <sstream>

#include <Poco/DateTimeFormatter.h>
#include <Poco/JSON/Object.h>
#include <busbar/busbar.h>

namespace stdout_transport {
namespace {

std::string toJsonLine(const std::string& exchange, const busbar::Event& event) {
  Poco::JSON::Object line;
  line.set("exchange", exchange);
  line.set("type", event.type);
  line.set("id", event.id);
  line.set("occurred_on",
           Poco::DateTimeFormatter::format(event.occurred_on, "%Y-%m-%dT%H:%M:%S.%iZ"));
  line.set("origin", event.origin);
  line.set("version", event.version);
  line.set("payload", event.payload);
  std::ostringstream out;
  line.stringify(out);  // compact: no newline inside
  out << '\n';
  return out.str();
}

// Thread-safe: publish from any thread; start and stop from the host's thread.
class StdoutTransport : public busbar::Transport {
 public:
  StdoutTransport(busbar::InboundSink& sink, Poco::Logger& logger, size_t capacity)
      : queue_(sink, logger, "stdout", capacity, [](const busbar::DeliveryQueue::Published& next) {
          const std::string line = toJsonLine(next.exchange, next.event);
          std::fwrite(line.data(), 1, line.size(), stdout);
          std::fflush(stdout);
        }) {}

  void publish(const std::string& exchange, const busbar::Event& event) override {
    queue_.push({exchange, event, {}, {}});
  }

  void start() { queue_.start(); }
  // Writes and delivers what is queued, then stops.
  void stop() noexcept { queue_.stop(); }

 private:
  busbar::DeliveryQueue queue_;
};

class StdoutPlugin : public busbar::Plugin {
 public:
  void init(busbar::PluginContext& context) override {
    context.config().rejectUnknownKeys({"queue_capacity"});
    auto capacity = context.config().getInt("queue_capacity", 65536, 1, 16 * 1024 * 1024);
    transport_ = std::make_shared<StdoutTransport>(context.inbound(), context.logger(),
                                                   static_cast<size_t>(capacity));
    context.registry().provide("transport", transport_);
  }
  void start() override { transport_->start(); }
  void stop() noexcept override { transport_->stop(); }

 private:
  std::shared_ptr<StdoutTransport> transport_;
};

}  // namespace
}  // namespace stdout_transport

BUSBAR_PLUGIN(BUSBAR_KIND_TRANSPORT, "stdout", "1.0.0", stdout_transport::StdoutPlugin)
