// EventMetrics: the figures of this server's events, exported at each scrape: what the event bus
// dispatched, what transports handed over, what the subscribers applied or failed, the apply lag,
// and the event log's positions and counters (busbar_event_log_*), from the objects that keep
// them (HostEventBus, HostInbound, InlineBus, EventLogRuntime).
//
// busbar_event_apply_lag_seconds is resettable (with its max): an operator's before and after.
//
// Thread-safety: as a MetricsCollector; the objects it reads must outlive the registry's use.
#pragma once

#include "events/event_log_runtime.h"
#include "events/host_event_bus.h"
#include "events/host_inbound.h"
#include "events/inline_bus.h"
#include "ops/metrics_registry.h"

namespace busbar::host {

class EventMetrics : public MetricsCollector {
 public:
  // `event_log` may be set later (setEventLog), once it exists.
  EventMetrics(const HostEventBus& bus, HostInbound& inbound, const InlineBus& inline_bus);

  void setEventLog(const EventLogRuntime* event_log) { event_log_ = event_log; }

  std::vector<CollectedFamily> families() const override;
  void collect(PrometheusText& out) const override;
  void reset(const std::string& name) override;

 private:
  const HostEventBus& bus_;
  HostInbound& inbound_;
  const InlineBus& inline_bus_;
  const EventLogRuntime* event_log_ = nullptr;
};

}  // namespace busbar::host
