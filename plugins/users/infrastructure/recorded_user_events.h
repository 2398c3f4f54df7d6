// RecordedUserEvents: a UserEventPublisher that keeps what it is given, in order, for tests and
// benchmarks that drive a repository without an event bus. Not thread-safe.
#pragma once

#include <vector>

#include "domain/user_events.h"

namespace busbar::users {

class RecordedUserEvents : public UserEventPublisher {
 public:
  void publish(const UserChange& change) override { changes.push_back(change); }
  std::vector<UserChange> changes;
};

}  // namespace busbar::users
