// stdout: a transport that writes every event it is handed as one JSON line on standard output,
// and delivers it to this server's subscribers, as a broker would hand it back.
//
// The line is the wire body of docs/events.md plus "exchange":
//   {"exchange":"busbar.events","id":"...","occurred_on":"2024-05-01T12:34:56.789Z",
//    "origin":"host:8000","payload":{...},"type":"UserWasCreated","version":1}
// publish() only queues the event (a transport must not block its caller); one worker thread
// writes the lines in order, then delivers each event into the host's InboundSink, so
// subscribers hear events with async_pass_through = false too. With pass-through on, the host
// drops those deliveries, having delivered the events already.
//
// [stdout] queue_capacity = events waiting to be written (default 65536); when full, an event is
// dropped, counted, logged, and subscribers are told to resynchronize.
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <sstream>
#include <thread>

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
      : sink_(sink), logger_(logger), capacity_(capacity) {}

  void publish(const std::string& exchange, const busbar::Event& event) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    if (queue_.size() >= capacity_) {
      ++dropped_;
      logger_.warning("stdout transport queue full (" + std::to_string(capacity_) + "): dropped " +
                      event.type + " " + event.id + " (" + std::to_string(dropped_) +
                      " so far); subscribers resync");
      resync_ = true;
      ready_.notify_one();
      return;
    }
    queue_.push_back({exchange, event});
    ready_.notify_one();
  }

  void start() {
    worker_ = std::thread([this] { run(); });
  }

  // Writes and delivers what is queued, then stops the worker.
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
    std::string exchange;
    busbar::Event event;
  };

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
      std::string line = toJsonLine(next.exchange, next.event);
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fflush(stdout);
      try {
        sink_.deliver(next.event);
      } catch (const std::exception& error) {
        logger_.error("subscriber failed on " + next.event.type + " " + next.event.id + ": " +
                      error.what());
      }
      lock.lock();
    }
  }

  busbar::InboundSink& sink_;
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
