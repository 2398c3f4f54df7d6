// The local transport: events stay in this process.
//
// publish() queues the event and returns; one worker thread delivers queued events to the
// inline bus in order, as a broker would, so that async_pass_through = false still reaches the
// local subscribers, after the dispatching request has returned. With pass-through on, the host
// drops those deliveries because this server already delivered them (by origin, or by sequence
// number for logged events). A logged event is settled once delivered (confirmed) or dropped; the
// host's relay hands a dropped one over again from the event log.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "busbar/plugin.h"

namespace busbar::local {
namespace {

class LocalTransport : public Transport, public SequencedTransport {
 public:
  LocalTransport(InboundSink& sink, Poco::Logger& logger, size_t capacity)
      : sink_(sink), logger_(logger), capacity_(capacity) {}

  void publish(const std::string& exchange, const Event& event) override {
    enqueue(Queued{event, {}, {}});
  }

  void publishSequenced(const std::string& exchange, const Event& event, const EventLogSeq& at,
                        PublishSettled settled) override {
    enqueue(Queued{event, at, std::move(settled)});
  }

  void start() {
    worker_ = std::thread([this] { run(); });
  }

  // Delivers what is queued, then stops the worker.
  void stop() noexcept {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_one();
    if (worker_.joinable()) worker_.join();
  }

 private:
  struct Queued {
    Event event;
    EventLogSeq at;          // seq 0: not logged
    PublishSettled settled;  // null: not logged
  };

  void enqueue(Queued queued) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!stopping_ && queue_.size() < capacity_) {
        queue_.push_back(std::move(queued));
        ready_.notify_one();
        return;
      }
      if (!stopping_) {
        ++dropped_;
        logger_.warning("local transport queue full (" + std::to_string(capacity_) +
                        "): dropped " + queued.event.type + " " + queued.event.id + "; " +
                        (queued.settled ? "the relay hands it over again from the event log"
                                        : "subscribers resync"));
        resync_ = resync_ || !queued.settled;
        ready_.notify_one();
      }
    }
    if (queued.settled) queued.settled(false);
  }

  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      ready_.wait(lock, [this] { return stopping_ || resync_ || !queue_.empty(); });
      if (resync_) {
        resync_ = false;
        lock.unlock();
        sink_.reconnected();
        lock.lock();
        continue;
      }
      if (queue_.empty()) return;  // stopping and drained
      Queued next = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      try {
        if (next.at.seq > 0) {
          sink_.deliverSequenced(next.event, next.at);
        } else {
          sink_.deliver(next.event);
        }
      } catch (const std::exception& error) {
        logger_.error("subscriber failed on " + next.event.type + " " + next.event.id + ": " +
                      error.what());
      }
      if (next.settled) next.settled(true);
      lock.lock();
    }
  }

  InboundSink& sink_;
  Poco::Logger& logger_;
  const size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Queued> queue_;
  bool stopping_ = false;
  bool resync_ = false;
  uint64_t dropped_ = 0;
  std::thread worker_;
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
