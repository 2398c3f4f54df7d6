#include "nats_publisher.h"

#include <algorithm>
#include <set>

namespace nats_transport {
namespace {

constexpr std::chrono::milliseconds kRetryInitial{50};
constexpr std::chrono::milliseconds kRetryCap{2000};
// While publishing fails, one warning per this long.
constexpr std::chrono::seconds kWarnEvery{10};

}  // namespace

NatsPublisher::NatsPublisher(NatsLink& link, size_t capacity, Poco::Logger& logger,
                             std::function<void()> on_events_lost)
    : link_(link),
      capacity_(capacity),
      logger_(logger),
      on_events_lost_(std::move(on_events_lost)) {}

NatsPublisher::~NatsPublisher() { stop(std::chrono::milliseconds(0)); }

bool NatsPublisher::enqueue(OutgoingMessage message) {
  const char* why = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      why = "the transport is stopping";
    } else if (queue_.size() >= capacity_) {
      why = "the publish queue is full";
      if (!message.settled) events_lost_ = true;
    } else {
      queue_.push_back(std::move(message));
      ready_.notify_one();
      return true;
    }
  }
  uint64_t count = ++dropped_;
  // Under a long outage every publish drops: log the first ones, then every thousandth.
  if (count <= 10 || count % 1000 == 0) {
    logger_.warning("nats publisher dropped " + message.type + " " + message.message_id +
                    " for exchange " + message.exchange + ": " + why + " (capacity " +
                    std::to_string(capacity_) + "); " + std::to_string(count) +
                    " dropped so far; " +
                    (message.settled ? "the relay publishes logged events again from the event log"
                                     : "subscribers resynchronize"));
  }
  if (message.settled) message.settled(false);
  return false;
}

void NatsPublisher::start() {
  worker_ = std::thread([this] { run(); });
}

void NatsPublisher::stop(std::chrono::milliseconds flush) noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_) {
      stopping_ = true;
      flush_deadline_ = std::chrono::steady_clock::now() + flush;
    }
  }
  ready_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::deque<OutgoingMessage> rest;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    rest.swap(queue_);
  }
  giveUp(rest, "the transport stopped");
}

size_t NatsPublisher::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

bool NatsPublisher::publishOnce(const OutgoingMessage& message, std::string& error) {
  int64_t wait = link_.settings().publish_timeout.count();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          flush_deadline_ - std::chrono::steady_clock::now());
      wait = std::max<int64_t>(1, std::min<int64_t>(wait, left.count()));
    }
  }
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = wait;
  options.MsgId = message.message_id.c_str();
  jsPubAck* ack = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  ++published_;
  natsStatus status =
      js_Publish(&ack, link_.jetStream(), message.subject.c_str(), message.body.data(),
                 static_cast<int>(message.body.size()), &options, &code);
  if (status == NATS_OK) {
    jsPubAck_Destroy(ack);
    return true;
  }
  error = describeStatus("publishing to " + message.subject, status, code);
  return false;
}

void NatsPublisher::run() {
  std::set<std::string> streams_ready;  // exchanges whose stream this worker has seen
  std::chrono::milliseconds delay = kRetryInitial;
  auto warned_at = std::chrono::steady_clock::time_point();
  for (;;) {
    OutgoingMessage message;
    bool notify_lost = false;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || events_lost_ || !queue_.empty(); });
      if (stopping_ && (queue_.empty() || std::chrono::steady_clock::now() >= flush_deadline_)) {
        return;
      }
      if (queue_.empty()) {
        events_lost_ = false;
        notify_lost = true;
      } else {
        message = std::move(queue_.front());
        queue_.pop_front();
      }
    }
    if (notify_lost) {
      on_events_lost_();
      continue;
    }

    if (!link_.connected()) {
      // Nothing to try while cnats reconnects; stopping now gives the rest up at once.
      std::unique_lock<std::mutex> lock(mutex_);
      queue_.push_front(std::move(message));
      if (stopping_) return;
      ready_.wait_for(lock, link_.settings().reconnect_wait, [this] { return stopping_; });
      continue;
    }
    std::string error;
    bool stored = false;
    try {
      if (streams_ready.count(message.exchange) == 0) {
        link_.ensureStream(message.exchange);
        streams_ready.insert(message.exchange);
      }
      stored = publishOnce(message, error);
    } catch (const std::exception& failure) {
      error = failure.what();
    }
    if (stored) {
      ++confirmed_;
      delay = kRetryInitial;
      if (message.settled) message.settled(true);
      continue;
    }

    // Not stored: the head of the queue again, after a pause (a server restart takes a while).
    streams_ready.erase(message.exchange);  // it may have been deleted: look again
    auto now = std::chrono::steady_clock::now();
    if (now - warned_at >= kWarnEvery) {
      warned_at = now;
      logger_.warning("nats publisher: " + error + "; retrying " + message.type + " " +
                      message.message_id + " with backoff, " + std::to_string(queued() + 1) +
                      " waiting");
    }
    std::unique_lock<std::mutex> lock(mutex_);
    queue_.push_front(std::move(message));
    if (stopping_) {
      // Flushing until the deadline: no backoff, but no spinning on a call that fails at once.
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } else {
      ready_.wait_for(lock, delay, [this] { return stopping_; });
    }
    delay = std::min(delay * 2, kRetryCap);
  }
}

void NatsPublisher::giveUp(std::deque<OutgoingMessage>& messages, const char* why) {
  if (messages.empty()) return;
  dropped_ += messages.size();
  size_t logged = 0;
  for (auto& message : messages) {
    if (!message.settled) continue;
    message.settled(false);
    ++logged;
  }
  logger_.error("nats publisher gave up " + std::to_string(messages.size()) +
                " unpublished events (" + why + "); " + std::to_string(logged) +
                " of them are in the event log and will be published again by a relay, the "
                "others are lost");
  messages.clear();
}

}  // namespace nats_transport
