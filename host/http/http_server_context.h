// HttpServerContext: what the event loops and connections of one HttpServer share.
//
// Thread-safety: immutable but for open_connections, an atomic.
#pragma once

#include <atomic>

#include <Poco/Logger.h>

#include "host_config.h"
#include "http/http_codec.h"
#include "http/http_router.h"
#include "http/worker_pool.h"

namespace busbar::host {

struct HttpServerContext {
  HttpServerContext(const HttpRouter& router, const HttpSettings& settings, Poco::Logger& logger,
                    WorkerPool& workers)
      : router(router),
        settings(settings),
        limits{settings.max_header_bytes, static_cast<size_t>(settings.max_headers),
               settings.max_body},
        logger(logger),
        workers(workers) {}

  const HttpRouter& router;
  const HttpSettings settings;
  const ParserLimits limits;
  Poco::Logger& logger;
  WorkerPool& workers;
  // Connections admitted and not closed yet, over every loop (those answered 503 not counted).
  std::atomic<int> open_connections{0};
  // Answers queued for sending, every kind (for what stop() reports).
  std::atomic<uint64_t> answers{0};
};

}  // namespace busbar::host
