// The local transport: events stay in this process.
//
// publish() queues the event and returns; the SDK's DeliveryQueue delivers queued events to the
// inline bus in order on a thread of its own, as a broker would, so that async_pass_through =
// false still reaches the local subscribers, after the dispatching request has returned. With
// pass-through on, the host drops those deliveries because this server already delivered them (by
// origin, or by sequence number for logged events). A logged event is settled once delivered
// (confirmed) or dropped; the host's relay hands a dropped one over again from the event log.
// Each event reaches the inline bus with who caused it (AttributedTransport).
#include "busbar/delivery_queue.h"
#include "busbar/plugin.h"

namespace busbar::local {
namespace {

class LocalTransport : public Transport, public SequencedTransport, public AttributedTransport {
 public:
  LocalTransport(InboundSink& sink, Poco::Logger& logger, size_t capacity)
      : queue_(sink, logger, "local", capacity) {}

  void publishAttributed(const std::string& exchange, const Event& event,
                         const std::string& principal) override {
    queue_.push({exchange, event, {}, {}}, principal);
  }

  void publishSequencedAttributed(const std::string& exchange, const Event& event,
                                  const EventLogSeq& at, const std::string& principal,
                                  PublishSettled settled) override {
    queue_.push({exchange, event, at, std::move(settled)}, principal);
  }

  // Transport's and SequencedTransport's own, for callers that know no principal: the two
  // above, caused by nobody.
  void publish(const std::string& exchange, const Event& event) override {
    publishAttributed(exchange, event, std::string());
  }

  void publishSequenced(const std::string& exchange, const Event& event, const EventLogSeq& at,
                        PublishSettled settled) override {
    publishSequencedAttributed(exchange, event, at, std::string(), std::move(settled));
  }

  void start() { queue_.start(); }
  // Delivers what is queued, then stops.
  void stop() noexcept { queue_.stop(); }

 private:
  DeliveryQueue queue_;
};

class LocalPlugin : public Plugin {
 public:
  void init(PluginContext& context) override {
    context.config().rejectUnknownKeys({"queue_capacity"});
    auto capacity = context.config().getInt("queue_capacity", 65536, 1, 16 * 1024 * 1024);
    transport_ = std::make_shared<LocalTransport>(context.inbound(), context.logger(),
                                                  static_cast<size_t>(capacity));
    context.registry().provide("transport", transport_);
  }
  void start() override { transport_->start(); }
  void stop() noexcept override { transport_->stop(); }

 private:
  std::shared_ptr<LocalTransport> transport_;
};

}  // namespace
}  // namespace busbar::local

BUSBAR_PLUGIN(BUSBAR_KIND_TRANSPORT, "local", "1.0.0", busbar::local::LocalPlugin)
