#include "nats_consumer.h"

#include <algorithm>
#include <random>

namespace nats_transport {
namespace {

constexpr int kBatch = 64;
// How often an idle worker checks that its JetStream consumer still exists: a deleted consumer
// makes pull requests time out as if nothing came.
constexpr std::chrono::seconds kCheckEvery{5};
constexpr std::chrono::milliseconds kRetryInitial{100};
constexpr std::chrono::milliseconds kRetryCap{5000};
constexpr int64_t kNanosPerMilli = 1000 * 1000;

// A durable name of this server's own: its id in consumer-name characters and a random suffix,
// so that a restarted server never picks up a consumer a dead one left.
std::string ownConsumerName(const std::string& server_id) {
  std::string name = "busbar_";
  for (char c : server_id) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-';
    name += plain ? c : '_';
  }
  std::random_device random;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "_%08x", static_cast<unsigned>(random()));
  return name + suffix;
}

std::string queueConsumerName(const std::string& queue) {
  std::string name = queue;
  for (char& c : name) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-';
    if (!plain) c = '_';
  }
  return name;
}

}  // namespace

NatsConsumer::NatsConsumer(NatsLink& link, busbar::ConsumedExchange consumed, std::string server_id,
                           busbar::InboundSink& sink, Poco::Logger& logger)
    : link_(link),
      consumed_(std::move(consumed)),
      stream_(streamName(link.settings(), consumed_.exchange)),
      subject_(subjectName(link.settings(), consumed_.exchange)),
      consumer_name_(consumed_.queue.empty() ? ownConsumerName(server_id)
                                             : queueConsumerName(consumed_.queue)),
      shared_(!consumed_.queue.empty()),
      sink_(sink),
      logger_(logger) {}

NatsConsumer::~NatsConsumer() { stop(); }

void NatsConsumer::start() {
  try {
    if (link_.connected()) subscribe();  // else the worker does once cnats has connected
  } catch (const std::exception& error) {
    logger_.warning(std::string("nats consumer of ") + consumed_.exchange + ": " + error.what() +
                    "; retrying in the background");
  }
  worker_ = std::thread([this] { run(); });
}

void NatsConsumer::stop() noexcept {
  if (stop_signal_.raised() && !worker_.joinable()) return;
  stop_signal_.raise();
  {
    // Wakes a pull request that waits for messages: Fetch returns at once on a closed one.
    std::lock_guard<std::mutex> lock(subscription_mutex_);
    if (subscription_ != nullptr) natsSubscription_Unsubscribe(subscription_);
  }
  if (worker_.joinable()) worker_.join();
  unsubscribe();
  if (!shared_ && created_once_ && link_.connected()) {
    // This server's own consumer serves no one else; the shared one outlives every server.
    jsOptions options;
    jsOptions_Init(&options);
    options.Wait = 1000;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus status = js_DeleteConsumer(link_.jetStream(), stream_.c_str(),
                                          consumer_name_.c_str(), &options, &code);
    if (status != NATS_OK && status != NATS_NOT_FOUND) {
      logger_.warning(describeStatus("nats: deleting consumer " + consumer_name_, status, code) +
                      "; JetStream drops it after [nats] idle_consumer_expiry");
    }
  }
}

void NatsConsumer::subscribe() {
  link_.ensureStream(consumed_.exchange);
  jsCtx* js = link_.jetStream();
  jsConsumerInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus status =
      js_GetConsumerInfo(&info, js, stream_.c_str(), consumer_name_.c_str(), nullptr, &code);
  if (status == NATS_OK) {
    jsConsumerInfo_Destroy(info);
  } else if (status == NATS_NOT_FOUND) {
    const NatsSettings& settings = link_.settings();
    jsConsumerConfig config;
    jsConsumerConfig_Init(&config);
    config.Durable = consumer_name_.c_str();
    config.AckPolicy = js_AckExplicit;
    config.DeliverPolicy = js_DeliverNew;  // as a queue bound now: what comes from now on
    config.AckWait = settings.ack_wait.count() * kNanosPerMilli;
    config.FilterSubject = subject_.c_str();
    config.MaxAckPending = 1000;
    if (!shared_) {
      config.InactiveThreshold =
          static_cast<int64_t>(settings.idle_consumer_expiry.count()) * 1000 * kNanosPerMilli;
    }
    status = js_AddConsumer(&info, js, stream_.c_str(), &config, nullptr, &code);
    if (status != NATS_OK) {
      throw NatsError(describeStatus(
          "creating JetStream consumer " + consumer_name_ + " on " + stream_, status, code));
    }
    jsConsumerInfo_Destroy(info);
    if (created_once_) {
      // It vanished: whatever came meanwhile is lost to this server.
      logger_.warning("nats: JetStream consumer " + consumer_name_ + " on " + stream_ +
                      " had vanished and was created again; subscribers resynchronize");
      resync_requested_.store(true);
    }
  } else {
    throw NatsError(describeStatus(
        "looking up JetStream consumer " + consumer_name_ + " on " + stream_, status, code));
  }
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = stream_.c_str();
  options.Consumer = consumer_name_.c_str();  // bound: unsubscribing never deletes it
  natsSubscription* subscription = nullptr;
  status = js_PullSubscribe(&subscription, js, subject_.c_str(), nullptr, nullptr, &options, &code);
  if (status != NATS_OK) {
    throw NatsError(
        describeStatus("subscribing to JetStream consumer " + consumer_name_, status, code));
  }
  {
    std::lock_guard<std::mutex> lock(subscription_mutex_);
    if (stop_signal_.raised()) {
      natsSubscription_Destroy(subscription);
      return;
    }
    subscription_ = subscription;
  }
  if (!created_once_) {
    logger_.information("nats consuming exchange " + consumed_.exchange + " (stream " + stream_ +
                        ") through " + (shared_ ? "shared durable consumer " : "own consumer ") +
                        consumer_name_);
  }
  created_once_ = true;
  checked_at_ = std::chrono::steady_clock::now();
}

void NatsConsumer::unsubscribe() noexcept {
  std::lock_guard<std::mutex> lock(subscription_mutex_);
  if (subscription_ == nullptr) return;
  natsSubscription_Destroy(subscription_);
  subscription_ = nullptr;
}

void NatsConsumer::resynchronize() {
  try {
    sink_.reconnected();
  } catch (const std::exception& error) {
    logger_.error(std::string("nats consumer: resynchronizing subscribers failed: ") +
                  error.what());
  }
}

void NatsConsumer::run() {
  std::chrono::milliseconds delay = kRetryInitial;
  while (!stop_signal_.raised()) {
    if (resync_requested_.exchange(false)) resynchronize();
    natsSubscription* subscription;
    {
      std::lock_guard<std::mutex> lock(subscription_mutex_);
      subscription = subscription_;
    }
    if (subscription == nullptr) {
      if (!link_.connected()) {
        stop_signal_.waitFor(link_.settings().reconnect_wait);
        continue;
      }
      try {
        subscribe();
        delay = kRetryInitial;
      } catch (const std::exception& error) {
        logger_.warning(std::string("nats consumer of ") + consumed_.exchange + ": " +
                        error.what() + "; retrying in " + std::to_string(delay.count()) + " ms");
        stop_signal_.waitFor(delay);
        delay = std::min(delay * 2, kRetryCap);
      }
      continue;
    }

    natsMsgList list = {nullptr, 0};
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus status = natsSubscription_Fetch(&list, subscription, kBatch,
                                               link_.settings().fetch_wait.count(), &code);
    if (status == NATS_OK) {
      for (int i = 0; i < list.Count && !stop_signal_.raised(); ++i) handle(list.Msgs[i]);
      natsMsgList_Destroy(&list);  // those not handled (stopping) go back after ack_wait
      continue;
    }
    natsMsgList_Destroy(&list);
    if (stop_signal_.raised()) break;
    if (status == NATS_TIMEOUT) {
      if (link_.connected() && std::chrono::steady_clock::now() - checked_at_ > kCheckEvery) {
        // Idle: make sure the consumer is still there; subscribe() recreates it when not.
        unsubscribe();
      }
      continue;
    }
    if (!link_.connected()) {
      stop_signal_.waitFor(link_.settings().reconnect_wait);
      continue;
    }
    logger_.warning("nats consumer of " + consumed_.exchange + ": " +
                    describeStatus("fetching", status, code) + "; subscribing again");
    unsubscribe();
    stop_signal_.waitFor(delay);
    delay = std::min(delay * 2, kRetryCap);
  }
}

void NatsConsumer::handle(natsMsg* message) {
  Envelope envelope;
  try {
    envelope = decodeEnvelope(natsMsg_GetData(message),
                              static_cast<size_t>(natsMsg_GetDataLength(message)));
  } catch (const EnvelopeError& invalid) {
    ++set_aside_;
    logger_.warning("nats consumer: a message on " + subject_ +
                    " is not a valid envelope, set aside (terminated, never delivered again): " +
                    invalid.what());
    natsMsg_Term(message, nullptr);
    return;
  }
  std::string error;
  if (deliver(envelope, error)) {
    ++delivered_;
    // Acknowledged only now that every subscriber ran: a server that dies before leaves the
    // message to JetStream, which delivers it again after ack_wait.
    natsMsg_Ack(message, nullptr);
    return;
  }
  if (stop_signal_.raised()) return;  // not acknowledged: JetStream delivers it again
  ++set_aside_;
  logger_.error("nats consumer: subscribers failed on " + envelope.event.type + " " +
                envelope.event.id + " " + std::to_string(link_.settings().retries + 1) +
                " times, set aside (terminated, never delivered again): " + error);
  natsMsg_Term(message, nullptr);
}

bool NatsConsumer::deliver(const Envelope& envelope, std::string& error) {
  const busbar::Event& event = envelope.event;
  std::chrono::milliseconds delay = kRetryInitial;
  for (int attempt = 1;; ++attempt) {
    try {
      if (envelope.logged.seq > 0) {
        sink_.deliverSequencedAttributed(event, envelope.logged, envelope.principal);
      } else {
        sink_.deliverAttributed(event, envelope.principal);
      }
      return true;
    } catch (const std::exception& failure) {
      error = failure.what();
    } catch (...) {
      error = "unknown error";
    }
    if (attempt > link_.settings().retries) return false;
    logger_.warning("nats consumer: subscribers failed on " + event.type + " " + event.id +
                    " (attempt " + std::to_string(attempt) + " of " +
                    std::to_string(link_.settings().retries + 1) + "): " + error +
                    "; retrying in " + std::to_string(delay.count()) + " ms");
    if (stop_signal_.waitFor(delay)) return false;
    delay = std::min(delay * 2, kRetryCap);
  }
}

}  // namespace nats_transport
