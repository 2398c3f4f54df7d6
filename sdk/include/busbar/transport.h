// Transport: carries dispatched events to other servers, and consumed events into this one.
//
// A transport plugin provides its Transport under the registry name "transport". It publishes
// what the event bus hands it and delivers what it consumes into the InboundSink of its
// PluginContext. Both interfaces are thread-safe.
#pragma once

#include <string>
#include <vector>

#include "busbar/event.h"
#include "busbar/export.h"
#include "busbar/registry.h"

namespace busbar {

// The inline bus as the transport sees it.
class BUSBAR_API InboundSink {
 public:
  virtual ~InboundSink() = default;

  // Runs every local subscriber of the event. Blocks while the host is still preloading.
  // On success returns when all ran; on failure throws after all ran (the caller may retry).
  virtual void deliver(const Event& event) = 0;

  // The transport lost events (a reconnect, a dropped publish): subscribers resynchronize.
  virtual void reconnected() = 0;
};

class BUSBAR_API Transport : public Service {
 public:
  // Hands `event` to the broker exchange `exchange` (a name, not an alias). Must not block on
  // the network. On success the transport owns delivery; a transport that has to drop the
  // event counts and logs it rather than failing the caller's write.
  virtual void publish(const std::string& exchange, const Event& event) = 0;
};

}  // namespace busbar

namespace busbar {

// Optional, for transports with broker-side topology: what `busbar infra` drives. Provided under
// the registry name "transport.admin". Called from the command line only, never while serving.
class BUSBAR_API TopologyAdmin : public Service {
 public:
  // Declares every exchange in `exchanges` (broker names). Returns one line per action done.
  // On failure throws with the broker's reason.
  virtual std::vector<std::string> createTopology(const std::vector<std::string>& exchanges) = 0;

  // Appends one line per exchange to `report`. Returns true when every exchange exists.
  virtual bool checkTopology(const std::vector<std::string>& exchanges,
                             std::vector<std::string>& report) = 0;

  // Deletes every exchange in `exchanges`. Returns one line per action done.
  virtual std::vector<std::string> dropTopology(const std::vector<std::string>& exchanges) = 0;
};

}  // namespace busbar
