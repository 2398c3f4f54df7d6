#include "ops/event_metrics.h"

#include <cmath>

namespace busbar::host {
namespace {

constexpr const char* kApplyLag = "busbar_event_apply_lag_seconds";

using Snapshot = EventLogRuntime::Snapshot;

// When a figure of the event log exists: always, with the log on, with the relay running.
enum class Needs { kAlways, kLog, kRelay };

struct Figure {
  const char* name;
  MetricType type;
  const char* help;
  Needs needs;
  double (*value)(const Snapshot&);  // absent when it returns NaN
};

double asNumber(uint64_t value) { return static_cast<double>(value); }

// The event log's figures, in the order collect() writes them.
const Figure kLogFigures[] = {
    {"busbar_event_log_enabled", MetricType::kGauge,
     "1 when events committed in a transaction go through the event log ([event_log] enabled)",
     Needs::kAlways, [](const Snapshot& s) { return s.enabled ? 1.0 : 0.0; }},
    {"busbar_event_log_applied_seq", MetricType::kGauge,
     "The last event log sequence number handed to this server's subscribers", Needs::kLog,
     [](const Snapshot& s) { return asNumber(s.applied_seq); }},
    {"busbar_event_log_head_seq", MetricType::kGauge,
     "The event log's head sequence number at the last catch-up", Needs::kLog,
     [](const Snapshot& s) { return asNumber(s.head_seq); }},
    {"busbar_event_log_waiting_events", MetricType::kGauge,
     "Logged events waiting behind a gap for the missing ones", Needs::kLog,
     [](const Snapshot& s) { return asNumber(s.waiting); }},
    {"busbar_event_log_gaps_total", MetricType::kCounter,
     "Times a logged event arrived beyond a gap", Needs::kLog,
     [](const Snapshot& s) { return asNumber(s.gaps); }},
    {"busbar_event_log_caught_up_events_total", MetricType::kCounter,
     "Events this server read from the event log rather than from the transport", Needs::kLog,
     [](const Snapshot& s) { return asNumber(s.caught_up); }},
    {"busbar_event_log_duplicates_total", MetricType::kCounter,
     "Logged events dropped because they were applied or waiting already", Needs::kLog,
     [](const Snapshot& s) { return asNumber(s.duplicates); }},
    {"busbar_event_log_set_aside_total", MetricType::kCounter,
     "Logged events whose subscribers kept failing, set aside in the parking lot", Needs::kLog,
     [](const Snapshot& s) { return asNumber(s.set_aside); }},
    {"busbar_event_log_parked_events", MetricType::kGauge,
     "Events parked now: set aside, not yet replayed or dropped (GET /admin/events/parked)",
     Needs::kLog, [](const Snapshot& s) { return asNumber(s.parked); }},
    {"busbar_event_log_catch_ups_total", MetricType::kCounter,
     "Catch-ups with the event log that succeeded", Needs::kLog,
     [](const Snapshot& s) { return asNumber(s.catch_ups); }},
    {"busbar_event_log_resyncs_total", MetricType::kCounter,
     "Resynchronizations: subscribers reloaded from the database", Needs::kAlways,
     [](const Snapshot& s) { return asNumber(s.resyncs); }},
    {"busbar_event_log_failures_total", MetricType::kCounter,
     "Catch-ups or resynchronizations that failed (and were tried again)", Needs::kAlways,
     [](const Snapshot& s) { return asNumber(s.failures); }},
    {"busbar_event_log_last_catch_up_timestamp_seconds", MetricType::kGauge,
     "When the last catch-up with the event log succeeded, seconds since the Unix epoch",
     Needs::kLog,
     [](const Snapshot& s) {
       return s.last_catch_up ? static_cast<double>(s.last_catch_up->epochMicroseconds()) / 1e6
                              : std::nan("");
     }},
    {"busbar_event_log_relay_lease_held", MetricType::kGauge,
     "1 while this server holds the relay lease", Needs::kRelay,
     [](const Snapshot& s) { return s.holds_lease ? 1.0 : 0.0; }},
    {"busbar_event_log_relay_backlog_events", MetricType::kGauge,
     "Logged events no broker confirmed yet, as the relay lease holder last counted them",
     Needs::kRelay, [](const Snapshot& s) { return asNumber(s.backlog); }},
    {"busbar_event_log_republished_total", MetricType::kCounter,
     "Logged events this server's relay published again", Needs::kRelay,
     [](const Snapshot& s) { return asNumber(s.republished); }},
    {"busbar_event_log_pruned_total", MetricType::kCounter,
     "Event log rows this server's relay pruned", Needs::kRelay,
     [](const Snapshot& s) { return asNumber(s.pruned); }},
    {"busbar_event_log_publication_marks_waiting", MetricType::kGauge,
     "Publication outcomes waiting to be written to the event log", Needs::kRelay,
     [](const Snapshot& s) { return asNumber(s.marks_waiting); }},
};

}  // namespace

EventMetrics::EventMetrics(const HostEventBus& bus, HostInbound& inbound,
                           const InlineBus& inline_bus)
    : bus_(bus), inbound_(inbound), inline_bus_(inline_bus) {}

std::vector<CollectedFamily> EventMetrics::families() const {
  std::vector<CollectedFamily> families = {
      {"busbar_events_dispatched_total", MetricType::kCounter},
      {"busbar_events_consumed_total", MetricType::kCounter},
      {"busbar_events_applied_total", MetricType::kCounter},
      {"busbar_events_failed_total", MetricType::kCounter},
      {kApplyLag, MetricType::kHistogram, /*resettable=*/true},
      {"busbar_event_apply_lag_max_seconds", MetricType::kGauge},
  };
  for (const auto& figure : kLogFigures) families.push_back({figure.name, figure.type});
  return families;
}

void EventMetrics::collect(PrometheusText& out) const {
  auto single = [&out](const char* name, MetricType type, const char* help, auto value) {
    out.family(name, help, type);
    out.sample(name, {}, value);
  };
  single("busbar_events_dispatched_total", MetricType::kCounter,
         "Events this server's modules dispatched (published, or committed with their write)",
         bus_.dispatched());
  single("busbar_events_consumed_total", MetricType::kCounter,
         "Events the transport handed to this server, duplicates included", inbound_.consumed());
  single("busbar_events_applied_total", MetricType::kCounter,
         "Event deliveries in which every local subscriber ran", inline_bus_.delivered());
  single("busbar_events_failed_total", MetricType::kCounter,
         "Event deliveries in which a local subscriber failed (each attempt counts)",
         inline_bus_.failed());

  out.family(kApplyLag,
             "Time from an event's occurred_on to the end of its delivery on this server, for "
             "events from the transport or the event log",
             MetricType::kHistogram);
  const auto lag = inbound_.applyLag().snapshot();
  out.histogram(kApplyLag, {}, inbound_.applyLag().bounds(), lag.counts, lag.sum);
  single("busbar_event_apply_lag_max_seconds", MetricType::kGauge,
         "The longest apply lag since start or the last reset of busbar_event_apply_lag_seconds",
         inbound_.applyLagMax());

  const Snapshot log = event_log_ != nullptr ? event_log_->snapshot() : Snapshot{};
  for (const auto& figure : kLogFigures) {
    out.family(figure.name, figure.help, figure.type);
    if ((figure.needs == Needs::kLog && !log.enabled) ||
        (figure.needs == Needs::kRelay && !log.relay)) {
      continue;  // the family without a sample: this server has no such figure
    }
    const double value = figure.value(log);
    if (!std::isnan(value)) out.sample(figure.name, {}, value);
  }
}

void EventMetrics::reset(const std::string& name) {
  if (name == kApplyLag) inbound_.resetApplyLag();
}

}  // namespace busbar::host
