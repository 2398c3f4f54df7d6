#include "events/inline_bus.h"

#include <algorithm>
#include <exception>
#include <optional>

#include "ops/request_context.h"

namespace busbar::host {
namespace {

template <typename T>
void insertByPriority(std::vector<T>& list, T item) {
  auto position = std::upper_bound(list.begin(), list.end(), item,
                                   [](const T& a, const T& b) { return a.priority > b.priority; });
  list.insert(position, std::move(item));
}

}  // namespace

void InlineBus::subscribe(const std::string& event_type, int priority, EventHandler handler) {
  insertByPriority(handlers_[event_type],
                   Handler{priority, next_order_++, std::move(handler), nullptr});
}

void InlineBus::subscribeWithContext(const std::string& event_type, int priority,
                                     ContextEventHandler handler) {
  insertByPriority(handlers_[event_type],
                   Handler{priority, next_order_++, nullptr, std::move(handler)});
}

void InlineBus::onLifecycle(Lifecycle moment, int priority, std::function<void()> handler) {
  insertByPriority(lifecycle_[moment],
                   LifecycleHandler{priority, next_order_++, std::move(handler)});
}

void InlineBus::deliverLocally(const Event& event) { Delivery(*this, event).run(); }

void InlineBus::Delivery::run() {
  std::exception_ptr error;
  std::vector<const Handler*> failing;
  std::optional<EventContext> context;  // made for the first handler that takes it
  auto call = [&](const Handler& handler) {
    try {
      if (handler.handler) {
        handler.handler(event_);
      } else {
        if (!context) {
          context = EventContext{std::string(currentPrincipal()), std::string(currentRequestId())};
        }
        handler.with_context(event_, *context);
      }
    } catch (...) {
      if (!error) error = std::current_exception();
      failing.push_back(&handler);
    }
  };
  if (!ran_) {
    ran_ = true;
    static const std::vector<Handler> kNone;
    auto typed = bus_.handlers_.find(event_.type);
    auto all = bus_.handlers_.find(kAllEvents);
    const auto& first = typed == bus_.handlers_.end() ? kNone : typed->second;
    const auto& second = all == bus_.handlers_.end() ? kNone : all->second;
    // Merge the two sorted lists: higher priority first, then registration order.
    size_t i = 0;
    size_t j = 0;
    while (i < first.size() || j < second.size()) {
      bool take_first =
          j == second.size() ||
          (i < first.size() &&
           (first[i].priority > second[j].priority ||
            (first[i].priority == second[j].priority && first[i].order < second[j].order)));
      call(take_first ? first[i++] : second[j++]);
    }
  } else {
    for (const Handler* handler : failed_) call(*handler);
  }
  failed_.swap(failing);
  if (error) {
    bus_.failed_.fetch_add(1, std::memory_order_relaxed);
    std::rethrow_exception(error);
  }
  bus_.delivered_.fetch_add(1, std::memory_order_relaxed);
}

void InlineBus::fire(Lifecycle moment) {
  auto found = lifecycle_.find(moment);
  if (found == lifecycle_.end()) return;
  for (const auto& handler : found->second) handler.handler();
}

void InlineBus::open() {
  {
    std::lock_guard<std::mutex> lock(open_mutex_);
    open_.store(true);
  }
  opened_.notify_all();
}

void InlineBus::waitUntilOpen() {
  if (open_.load(std::memory_order_acquire)) return;
  std::unique_lock<std::mutex> lock(open_mutex_);
  opened_.wait(lock, [this] { return open_.load(); });
}

}  // namespace busbar::host
