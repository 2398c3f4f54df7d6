// BusUserEventPublisher: publishes user changes as SDK events on the host's event bus.
#pragma once

#include "busbar/event_bus.h"
#include "domain/user_events.h"
#include "infrastructure/user_event_codec.h"

namespace busbar::users {

class BusUserEventPublisher : public UserEventPublisher {
 public:
  explicit BusUserEventPublisher(EventBus& bus) : bus_(bus) {}
  void publish(const UserChange& change) override { bus_.dispatch(toEvent(change)); }

 private:
  EventBus& bus_;
};

}  // namespace busbar::users
