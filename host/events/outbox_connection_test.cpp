// The outbox over a real SQLite database, driven through the event bus as a module drives it.
#include "events/outbox_connection.h"

#include <mutex>

#include "events/host_event_bus.h"
#include "events/sqlite_event_log_fixture.h"
#include "ops/request_context.h"

namespace busbar::host {
namespace {

// A transport that records what it is handed, with the event log position when it is one and who
// caused it (an AttributedTransport, SDK 1.6).
class OutboxTransport : public Transport, public SequencedTransport, public AttributedTransport {
 public:
  void publish(const std::string& exchange, const Event& event) override {
    publishAttributed(exchange, event, "(none: the call without a principal)");
  }
  void publishSequenced(const std::string& exchange, const Event& event, const EventLogSeq& at,
                        PublishSettled settled) override {
    publishSequencedAttributed(exchange, event, at, "(none: the call without a principal)",
                               std::move(settled));
  }
  void publishAttributed(const std::string& exchange, const Event& event,
                         const std::string& principal) override {
    std::lock_guard<std::mutex> lock(mutex);
    published.push_back({event.id, 0, "", "", principal});
  }
  void publishSequencedAttributed(const std::string& exchange, const Event& event,
                                  const EventLogSeq& at, const std::string& principal,
                                  PublishSettled settled) override {
    {
      std::lock_guard<std::mutex> lock(mutex);
      published.push_back({event.id, at.seq, at.log_id, at.request_id, principal});
    }
    settled(true);
  }
  struct Published {
    std::string id;
    uint64_t seq;
    std::string log_id;
    std::string request_id;
    std::string principal;
  };
  std::mutex mutex;
  std::vector<Published> published;
};

class OutboxTest : public SqliteEventLogTest {
 protected:
  void SetUp() override {
    SqliteEventLogTest::SetUp();
    identity_.set(log_->head().log_id);
    bus_ = std::make_unique<HostEventBus>(
        "me:1", true, EventRouter({{"_all", {"events"}}}, {{"events", "busbar.events"}}),
        inline_bus_, Poco::Logger::get("test"));
    bus_->setTransport(transport_);
    bus_->setEventLog(&sequencer_, &tracker_, &identity_);
    inline_bus_.subscribeWithContext(kAllEvents, 0,
                                     [this](const Event& event, const EventContext& context) {
                                       local_.push_back(event.id);
                                       local_request_ids_.emplace_back(currentRequestId());
                                       local_principals_.push_back(context.principal);
                                     });
    inline_bus_.open();
    sequencer_.resynchronize([] { return LogPosition{}; });
    outbox_ = std::make_shared<OutboxConnection>(storage_, log_.get(), *bus_, SettleOptions{},
                                                 Poco::Logger::get("test"));
  }

  Event named(const std::string& id) {
    Event event = userEvent(id);
    return event;
  }

  InlineBus inline_bus_;
  std::shared_ptr<OutboxTransport> transport_ = std::make_shared<OutboxTransport>();
  LogIdentity identity_;
  PublicationTracker tracker_;
  std::vector<std::string> local_;
  std::vector<std::string> local_request_ids_;
  std::vector<std::string> local_principals_;
  EventSequencer sequencer_{
      [this](const Event& event, EventSource) { inline_bus_.deliverLocally(event); },
      [] {},
      {},
      Poco::Logger::get("test")};
  std::unique_ptr<HostEventBus> bus_;
  std::shared_ptr<OutboxConnection> outbox_;
};

TEST_F(OutboxTest, EventsDispatchedInATransactionAreLoggedWithItAndGoOutAfterTheCommit) {
  outbox_->transaction([&](Connection& tx) {
    bus_->dispatch(named("a"));
    bus_->dispatch(named("b"));
    EXPECT_TRUE(transport_->published.empty());  // not before the commit
    EXPECT_TRUE(local_.empty());
    EXPECT_EQ(OutboxConnection::pendingOnThisThread()->size(), 2u);
  });
  EXPECT_EQ(OutboxConnection::pendingOnThisThread(), nullptr);
  ASSERT_EQ(transport_->published.size(), 2u);
  EXPECT_EQ(transport_->published[0].seq, 1u);
  EXPECT_EQ(transport_->published[1].seq, 2u);
  EXPECT_EQ(transport_->published[1].log_id, identity_.get());
  sequencer_.waitUntilSettled();
  EXPECT_EQ(local_, (std::vector<std::string>{"a", "b"}));  // pass-through, in seq order
  EXPECT_EQ(log_->readAfter(0, 10).size(), 2u);
  tracker_.flush(*log_);
  EXPECT_EQ(log_->countUnpublished(0), 0u);  // the transport confirmed both
}

TEST_F(OutboxTest, TheRequestThatEmittedAnEventTravelsWithIt) {
  {
    RequestScope request("req-9", "alice");
    outbox_->transaction([&](Connection&) { bus_->dispatch(named("a")); });
  }
  outbox_->transaction([&](Connection&) { bus_->dispatch(named("b")); });
  ASSERT_EQ(transport_->published.size(), 2u);
  EXPECT_EQ(transport_->published[0].request_id, "req-9");
  EXPECT_EQ(transport_->published[0].principal, "alice");
  EXPECT_EQ(transport_->published[1].request_id, "");
  EXPECT_EQ(transport_->published[1].principal, "");
  // Subscribers here run under it too, after the commit and outside the request's own scope.
  sequencer_.waitUntilSettled();
  EXPECT_EQ(local_request_ids_, (std::vector<std::string>{"req-9", ""}));
  EXPECT_EQ(local_principals_, (std::vector<std::string>{"alice", ""}));
  // Other servers' catch-up and the relay read them from the log.
  auto logged = log_->readAfter2(0, 10);
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[0].request_id, "req-9");
  EXPECT_EQ(logged[0].principal, "alice");
  EXPECT_EQ(logged[1].request_id, "");
  EXPECT_EQ(logged[1].principal, "");
}

TEST_F(OutboxTest, WithTheLogOffThePrincipalStillGoesOutAfterTheCommit) {
  OutboxConnection unlogged(storage_, nullptr, *bus_, SettleOptions{}, Poco::Logger::get("test"));
  {
    RequestScope request("req-3", "bob");
    unlogged.transaction([&](Connection&) { bus_->dispatch(named("a")); });
  }
  ASSERT_EQ(transport_->published.size(), 1u);
  EXPECT_EQ(transport_->published[0].seq, 0u);
  EXPECT_EQ(transport_->published[0].principal, "bob");
  EXPECT_EQ(local_principals_, std::vector<std::string>{"bob"});
}

TEST_F(OutboxTest, ARolledBackTransactionPublishesAndLogsNothing) {
  EXPECT_THROW(outbox_->transaction([&](Connection&) {
    bus_->dispatch(named("lost"));
    throw std::runtime_error("the write failed");
  }),
               std::runtime_error);
  EXPECT_TRUE(transport_->published.empty());
  EXPECT_TRUE(local_.empty());
  EXPECT_EQ(log_->head().seq, 0u);
}

TEST_F(OutboxTest, ANestedTransactionJoinsTheOuterOne) {
  outbox_->transaction([&](Connection&) {
    bus_->dispatch(named("outer"));
    outbox_->transaction([&](Connection&) { bus_->dispatch(named("inner")); });
    EXPECT_TRUE(transport_->published.empty());  // the inner one did not commit on its own
  });
  ASSERT_EQ(transport_->published.size(), 2u);
  EXPECT_EQ(transport_->published[1].id, "inner");
  EXPECT_EQ(transport_->published[1].seq, 2u);
}

TEST_F(OutboxTest, OutsideATransactionAnEventGoesOutAtOnceUnlogged) {
  bus_->dispatch(named("now"));
  ASSERT_EQ(transport_->published.size(), 1u);
  EXPECT_EQ(transport_->published[0].seq, 0u);
  EXPECT_EQ(local_, std::vector<std::string>{"now"});
  EXPECT_EQ(log_->head().seq, 0u);
}

TEST_F(OutboxTest, WithTheLogOffEventsStillWaitForTheCommit) {
  OutboxConnection unlogged(storage_, nullptr, *bus_, SettleOptions{}, Poco::Logger::get("test"));
  unlogged.transaction([&](Connection&) {
    bus_->dispatch(named("a"));
    EXPECT_TRUE(transport_->published.empty());
  });
  ASSERT_EQ(transport_->published.size(), 1u);
  EXPECT_EQ(transport_->published[0].seq, 0u);
  EXPECT_EQ(log_->head().seq, 0u);
}

}  // namespace
}  // namespace busbar::host
