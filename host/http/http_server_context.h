// HttpServerContext: what the event loops and connections of one HttpServer share.
//
// Thread-safety: immutable but for the counters, atomics; the metrics and the
// access log are thread-safe as their own headers say.
#pragma once

#include <atomic>
#include <string>

#include <Poco/Logger.h>

#include "host_config.h"
#include "http/access_log.h"
#include "http/access_policy.h"
#include "http/http_codec.h"
#include "http/http_metrics.h"
#include "http/http_router.h"
#include "http/tls_context.h"
#include "http/worker_pool.h"

namespace busbar::host {

// Connections over the limit answered 503 at once, per listener (see refusing_connections).
inline constexpr int kMaxRefusingConnections = 16;

struct HttpServerContext {
  HttpServerContext(const HttpRouter& router, const HttpSettings& settings, Poco::Logger& logger,
                    WorkerPool& workers, HttpMetrics::Listener* metrics, AccessLog* access_log)
      : router(router),
        settings(settings),
        limits{settings.max_header_bytes, static_cast<size_t>(settings.max_headers),
               settings.max_body},
        logger(logger),
        workers(workers),
        metrics(metrics),
        access_log(access_log) {}

  const HttpRouter& router;
  const HttpSettings settings;
  const ParserLimits limits;
  Poco::Logger& logger;
  WorkerPool& workers;
  HttpMetrics::Listener* const metrics;   // null: requests are not counted
  AccessLog* const access_log;            // null: no access log
  const AccessPolicy* access = nullptr;   // who may call which route; null: every route open.
                                          // Set before the loops start
  const TlsServerContext* tls = nullptr;  // HTTPS; null: plain HTTP. Set before the loops start
  std::string listener = "public";        // the listener's name; set before the loops start
  // Connections admitted and not closed yet, over every loop (those answered 503 not counted).
  std::atomic<int> open_connections{0};
  // Connections over connection_limit being answered 503 now: each holds a descriptor until its
  // answer is sent and it closes (a second at most). Past kMaxRefusingConnections a newcomer
  // is closed unanswered, so that a flood of connections cannot take the descriptors kept for
  // the database, the broker and the logs.
  std::atomic<int> refusing_connections{0};
  // Set by stop() before any loop hears of it: an answer made from then on says
  // "Connection: close" on every loop, also on one that has not begun its own stop yet.
  std::atomic<bool> stopping{false};
  // Answers queued for sending, every kind (for what stop() reports).
  std::atomic<uint64_t> answers{0};
  // Blocking requests answered 503 because max_queued waited already, or because they waited
  // request_timeout_seconds without a worker; and those answered 504, still running at it.
  std::atomic<uint64_t> shed_queue_full{0};
  std::atomic<uint64_t> shed_waited_too_long{0};
  std::atomic<uint64_t> timed_out{0};
  // Connections answered 503 at connection_limit; times accepting paused without descriptors.
  std::atomic<uint64_t> refused_connections{0};
  std::atomic<uint64_t> accept_pauses{0};
  // TLS handshakes that failed or were cut (timed out, closed, not TLS at all).
  std::atomic<uint64_t> tls_handshake_failures{0};
  // The connections served at once: [http] max_connections, or fewer when the open file limit
  // leaves no room for the other descriptors (servedConnections()); set before the loops start.
  int connection_limit = 0;
};

}  // namespace busbar::host
