#include "http/http_load_metrics.h"

namespace busbar::host {

void exportHttpLoadMetrics(MetricsRegistry& metrics, const std::unique_ptr<HttpServer>& server,
                           const std::string& listener_name) {
  using Load = HttpServer::Load;
  auto reader = [](const std::unique_ptr<HttpServer>& server, auto value) {
    return [&server, value]() -> double { return server ? value(server->load()) : 0.0; };
  };
  auto seconds = [](std::chrono::nanoseconds ns) { return static_cast<double>(ns.count()) / 1e9; };
  const MetricLabels labels{{"listener", listener_name}};
  metrics.gaugeReader(
      "busbar_http_worker_queue_requests",
      "blocking requests waiting for a worker now ([http] max_queued at most)", labels,
      reader(server, [](const Load& load) { return static_cast<double>(load.queued); }));
  metrics.gaugeReader(
      "busbar_http_worker_queue_oldest_wait_seconds",
      "how long the oldest request waiting for a worker has waited", labels,
      reader(server, [seconds](const Load& load) { return seconds(load.oldest_wait); }));
  metrics.counterReader(
      "busbar_http_worker_jobs_started_total", "blocking requests a worker took from the queue",
      labels, reader(server, [](const Load& load) { return static_cast<double>(load.started); }));
  metrics.counterReader(
      "busbar_http_worker_queue_wait_seconds_total",
      "the time those requests waited in the queue, in total", labels,
      reader(server, [seconds](const Load& load) { return seconds(load.waited); }));
  for (const auto& [reason, count] : {std::pair{"queue_full", &Load::shed_queue_full},
                                      std::pair{"waited_too_long", &Load::shed_waited_too_long}}) {
    MetricLabels shed = labels;
    shed.emplace_back("reason", reason);
    metrics.counterReader("busbar_http_requests_shed_total",
                          "blocking requests answered 503 unrun: the queue was full, or they "
                          "waited [http] request_timeout_seconds",
                          shed, reader(server, [count = count](const Load& load) {
                            return static_cast<double>(load.*count);
                          }));
  }
  metrics.counterReader("busbar_http_connections_refused_total",
                        "connections answered 503 (past 16 at once, closed unanswered) at "
                        "the listener's connection limit ([http] max_connections, or the open "
                        "file limit)",
                        labels, reader(server, [](const Load& load) {
                          return static_cast<double>(load.refused_connections);
                        }));
  metrics.counterReader(
      "busbar_http_accept_pauses_total",
      "times accepting paused for 100 ms: the process had no descriptor left", labels,
      reader(server, [](const Load& load) { return static_cast<double>(load.accept_pauses); }));
  metrics.counterReader(
      "busbar_http_tls_handshake_failures_total",
      "TLS handshakes that failed (a client that does not trust the "
      "certificate, plain HTTP sent to an HTTPS port), were cut, or passed [http] "
      "header_timeout_seconds",
      labels, reader(server, [](const Load& load) {
        return static_cast<double>(load.tls_handshake_failures);
      }));
  metrics.counterReader(
      "busbar_http_requests_timed_out_total",
      "blocking requests answered 504: still running at [http] "
      "request_timeout_seconds",
      labels, reader(server, [](const Load& load) { return static_cast<double>(load.timed_out); }));
}

}  // namespace busbar::host
