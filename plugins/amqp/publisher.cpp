#include "publisher.h"

#include <poll.h>
#include <sys/time.h>

#include <algorithm>

#include "backoff.h"

namespace busbar::amqp {
namespace {

constexpr amqp_channel_t kPublishChannel = 1;
// How long an idle worker waits for the broker or new messages before it services the socket
// (heartbeats).
constexpr std::chrono::milliseconds kIdleWait{200};
// How long a worker with nothing to publish waits for confirms at a time.
constexpr std::chrono::milliseconds kConfirmWait{20};
// Nacks are logged at most once per interval, with how many came since the last line.
constexpr std::chrono::seconds kNackLogInterval{1};
// Nacks stopped for this long (past the longest pause): the pause after the next starts over.
constexpr std::chrono::seconds kNackQuiet{5};

}  // namespace

AmqpPublisher::AmqpPublisher(PublisherOptions options, Poco::Logger& logger,
                             std::function<void()> on_events_lost)
    : options_(std::move(options)), logger_(logger), on_events_lost_(std::move(on_events_lost)) {}

AmqpPublisher::~AmqpPublisher() { stop(); }

bool AmqpPublisher::enqueue(OutgoingMessage message) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const char* why = stopping_                                  ? "the transport is stopping"
                      : queue_.size() >= options_.queue_capacity ? "the publish queue is full"
                                                                 : nullptr;
    if (why == nullptr) {
      queue_.push_back(std::move(message));
      if (wake_on_enqueue_) {
        wake_on_enqueue_ = false;
        wakeup_.raise();
      }
      return true;
    }
    if (!message.settled && !stopping_) events_lost_ = true;
    countDropped(message, why);
  }
  if (message.settled) message.settled(false);
  return false;
}

void AmqpPublisher::countDropped(const OutgoingMessage& message, const char* why) {
  uint64_t count = ++dropped_;
  // Under a long outage every publish drops: log the first ones and then every thousandth.
  if (count <= 10 || count % 1000 == 0) {
    logger_.warning("amqp publisher dropped " + message.type + " " + message.message_id +
                    " for exchange " + message.exchange + ": " + why + " (capacity " +
                    std::to_string(options_.queue_capacity) + "); " + std::to_string(count) +
                    " dropped so far; " +
                    (message.settled ? "the relay publishes logged events again from the event log"
                                     : "subscribers resynchronize"));
  }
}

void AmqpPublisher::start() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
  }
  stop_signal_.reset();
  worker_ = std::thread([this] { run(); });
}

void AmqpPublisher::stop() noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_) {
      stopping_ = true;
      flush_deadline_ = std::chrono::steady_clock::now() + options_.flush_timeout;
    }
  }
  wakeup_.raise();
  stop_signal_.raise();
  if (worker_.joinable()) worker_.join();
}

size_t AmqpPublisher::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

std::string AmqpPublisher::lastError() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return connected_.load() ? std::string() : last_error_;
}

bool AmqpPublisher::flushDeadlinePassed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopping_ && std::chrono::steady_clock::now() >= flush_deadline_;
}

std::unique_ptr<AmqpConnection> AmqpPublisher::connect() {
  auto connection =
      std::make_unique<AmqpConnection>(options_.connection, options_.connection_name, next_broker_);
  broker_index_.store(connection->brokerIndex());
  // Whatever ends this connection (its setup failing on this node, the node lost), the next one
  // tries the node after it first: in a cluster, the one least likely to answer now.
  next_broker_ = connection->brokerIndex() + 1;
  connection->openChannel(kPublishChannel);
  if (options_.declare_exchanges) {
    for (const auto& exchange : options_.exchanges) {
      connection->declareFanoutExchange(kPublishChannel, exchange, false);
    }
  }
  connection->selectConfirms(kPublishChannel);
  next_delivery_tag_ = 1;
  return connection;
}

void AmqpPublisher::run() {
  Backoff backoff(options_.reconnect_initial, options_.reconnect_cap);
  bool was_connected = false;
  while (!flushDeadlinePassed()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_ && queue_.empty() && unconfirmed_.empty() && nacked_messages_.empty()) break;
    }
    std::unique_ptr<AmqpConnection> connection;
    auto connected_at = std::chrono::steady_clock::now();
    try {
      connection = connect();
      connected_at = std::chrono::steady_clock::now();
      if (was_connected) {
        ++reconnects_;
        logger_.information("amqp publisher reconnected to " +
                            describeNode(options_.connection, connection->brokerIndex()));
      }
      was_connected = true;
      connected_.store(true);
      requeueUnconfirmed();
      pump(*connection);
      break;  // pump returns only when stop() is done
    } catch (const std::exception& error) {
      connected_.store(false);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        last_error_ = error.what();
      }
      requeueUnconfirmed();
      // A link that served a while starts the backoff over; a flapping one keeps growing it.
      if (connection && std::chrono::steady_clock::now() - connected_at > kStableLink) {
        backoff.reset();
      }
      connection.reset();
      auto delay = backoff.next();
      size_t waiting;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        waiting = queue_.size();
      }
      logger_.warning(std::string("amqp publisher: ") + error.what() + "; retrying in " +
                      std::to_string(delay.count()) + " ms, " + std::to_string(waiting) +
                      " messages waiting");
      if (stop_signal_.waitFor(delay)) {
        // Stopping: keep trying until the flush deadline, without spinning.
        std::this_thread::sleep_for(std::min(delay, std::chrono::milliseconds(500)));
      }
    }
  }
  connected_.store(false);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    last_error_ = "the transport stopped";
  }
  requeueUnconfirmed();
  std::deque<OutgoingMessage> unpublished;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    unpublished.swap(queue_);
  }
  if (unpublished.empty()) return;
  dropped_ += unpublished.size();
  size_t logged = 0;
  for (auto& message : unpublished) {
    if (!message.settled) continue;
    message.settled(false);
    ++logged;
  }
  logger_.error("amqp publisher stopped with " + std::to_string(unpublished.size()) +
                " unpublished messages; " + std::to_string(logged) +
                " of them are in the event log and will be published again by a relay, the "
                "others are lost");
}

void AmqpPublisher::pump(AmqpConnection& connection) {
  for (;;) {
    std::vector<OutgoingMessage> batch;
    bool notify_lost = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_ && ((queue_.empty() && unconfirmed_.empty() && nacked_messages_.empty()) ||
                        std::chrono::steady_clock::now() >= flush_deadline_)) {
        return;
      }
      if (queue_.empty() && unconfirmed_.empty() && nacked_messages_.empty() && events_lost_) {
        events_lost_ = false;
        notify_lost = true;
      }
      // The pause over, what was nacked goes first again, in the order it was first sent.
      if (!resendPaused() && !nacked_messages_.empty()) {
        std::vector<OutgoingMessage> again;
        for (auto& [tag, message] : nacked_messages_) again.push_back(std::move(message));
        nacked_messages_.clear();
        queue_.insert(queue_.begin(), std::make_move_iterator(again.begin()),
                      std::make_move_iterator(again.end()));
      }
      while (!resendPaused() && !queue_.empty() &&
             unconfirmed_.size() + batch.size() < options_.confirm_window) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (notify_lost) {
      try {
        on_events_lost_();
      } catch (const std::exception& error) {
        logger_.error(std::string("amqp publisher: resynchronizing after dropped events failed: ") +
                      error.what());
      }
    }
    // Every message of the batch is unconfirmed before the first is sent: when the link breaks
    // halfway, requeueUnconfirmed() puts back the ones not sent as well.
    std::vector<const OutgoingMessage*> sending;
    sending.reserve(batch.size());
    for (auto& message : batch) {
      uint64_t tag = next_delivery_tag_++;
      sending.push_back(&unconfirmed_.emplace(tag, std::move(message)).first->second);
    }
    for (const OutgoingMessage* message : sending) {
      connection.publish(kPublishChannel, *message);
      ++published_;
    }
    // Having sent, take the confirms that have arrived and go on; with nothing sent, wait for the
    // broker or for a new message, whichever comes first (a message never waits for confirms).
    std::chrono::milliseconds wait{0};
    if (batch.empty()) {
      wait = unconfirmed_.empty() && nacked_messages_.empty() ? kIdleWait : kConfirmWait;
    }
    readFrames(connection, wait);
  }
}

void AmqpPublisher::readFrames(AmqpConnection& connection, std::chrono::milliseconds wait) {
  amqp_connection_state_t state = connection.state();
  amqp_maybe_release_buffers(state);
  bool waited = false;
  for (;;) {
    // A zero timeout takes only what has arrived (and sends a heartbeat when one is due).
    timeval now{0, 0};
    amqp_frame_t frame;
    int status = amqp_simple_wait_frame_noblock(state, &frame, &now);
    if (status == AMQP_STATUS_TIMEOUT) {
      if (waited || wait.count() == 0 || !waitForBrokerOrWork(connection, wait)) return;
      waited = true;
      continue;
    }
    connection.checkStatus(status, "lost the broker");
    connection.throwIfClosing(frame);
    if (frame.frame_type == AMQP_FRAME_METHOD) {
      const amqp_method_t& method = frame.payload.method;
      if (method.id == AMQP_BASIC_ACK_METHOD) {
        auto* ack = static_cast<amqp_basic_ack_t*>(method.decoded);
        settle(ack->delivery_tag, ack->multiple != 0, true);
      } else if (method.id == AMQP_BASIC_NACK_METHOD) {
        auto* nack = static_cast<amqp_basic_nack_t*>(method.decoded);
        settle(nack->delivery_tag, nack->multiple != 0, false);
      }
    }
  }
}

bool AmqpPublisher::waitForBrokerOrWork(AmqpConnection& connection,
                                        std::chrono::milliseconds wait) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // After a nack nothing is sent until the pause ends: only the broker's frames matter.
    const bool window_open = unconfirmed_.size() < options_.confirm_window && !resendPaused();
    if (window_open && !queue_.empty()) return false;  // something to send already
    if (resendPaused()) {
      // Rounded up and never negative: poll() takes -1 as "no timeout".
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(
          resend_after_ - std::chrono::steady_clock::now());
      wait = std::clamp(left, std::chrono::milliseconds(0), wait);
    }
    // With the window full a new message could not be sent: only the broker's frames matter.
    wake_on_enqueue_ = window_open;
  }
  pollfd watched[2] = {{amqp_get_sockfd(connection.state()), POLLIN, 0}, {wakeup_.fd(), POLLIN, 0}};
  const int ready = ::poll(watched, 2, static_cast<int>(wait.count()));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_on_enqueue_ = false;
  }
  wakeup_.clear();
  // POLLERR and POLLHUP count as readable: the read that follows reports the broken link.
  return ready > 0 && watched[0].revents != 0;
}

void AmqpPublisher::settle(uint64_t delivery_tag, bool multiple, bool acked) {
  auto end = multiple ? unconfirmed_.upper_bound(delivery_tag) : unconfirmed_.find(delivery_tag);
  auto begin = multiple ? unconfirmed_.begin() : end;
  if (!multiple) {
    if (end == unconfirmed_.end()) return;
    ++end;
  }
  const auto now = std::chrono::steady_clock::now();
  if (acked) {
    // The pause starts over once nacks have stopped for longer than its longest; acks of other
    // exchanges between two nacked rounds do not reset it.
    if (now - last_nack_at_ > kNackQuiet) nack_backoff_.reset();
    if (nacks_not_logged_ > 0 && now - last_nack_logged_ >= kNackLogInterval) logNacks(now);
    confirmed_ += static_cast<uint64_t>(std::distance(begin, end));
    for (auto it = begin; it != end; ++it) {
      if (it->second.settled) it->second.settled(true);
    }
    unconfirmed_.erase(begin, end);
    return;
  }
  // Nacked: the broker could not take them (e.g. a quorum queue bound to the exchange has lost
  // the majority of its nodes, and will nack whatever comes until it has it back). They go back
  // first in the queue, and nothing is sent for a pause that grows while nacks go on, so that the
  // publisher neither spins on the broker nor floods the log.
  // One step of the pause per round: the nacks of what was sent before the pause began do not
  // lengthen it.
  const auto count = static_cast<uint64_t>(std::distance(begin, end));
  nacked_ += count;
  nacks_not_logged_ += count;
  last_nack_at_ = now;
  if (!resendPaused()) resend_after_ = now + nack_backoff_.next();
  if (now - last_nack_logged_ >= kNackLogInterval) logNacks(now);
  // Kept by delivery tag until the pause ends: nacks may come one message at a time, and each
  // put back at the head of the queue on its own would reverse their order.
  for (auto it = begin; it != end; ++it) nacked_messages_.emplace(it->first, std::move(it->second));
  unconfirmed_.erase(begin, end);
}

void AmqpPublisher::logNacks(std::chrono::steady_clock::time_point now) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(resend_after_ - now);
  logger_.warning("amqp broker nacked " + std::to_string(nacks_not_logged_) +
                  " messages (a queue bound to the exchange cannot take them, e.g. a quorum "
                  "queue without a majority of its nodes); publishing them again" +
                  (left.count() > 0 ? " in " + std::to_string(left.count()) + " ms" : ""));
  nacks_not_logged_ = 0;
  last_nack_logged_ = now;
}

void AmqpPublisher::requeueUnconfirmed() {
  unconfirmed_.merge(
      nacked_messages_);  // one connection's delivery tags: the order they were sent in
  if (unconfirmed_.empty()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<OutgoingMessage> again;
  for (auto& [tag, message] : unconfirmed_) again.push_back(std::move(message));
  unconfirmed_.clear();
  queue_.insert(queue_.begin(), std::make_move_iterator(again.begin()),
                std::make_move_iterator(again.end()));
}

}  // namespace busbar::amqp
