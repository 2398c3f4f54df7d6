// The load of one HTTP listener's blocking requests as metrics: the worker queue's depth and
// oldest wait, jobs started and their total wait, requests shed (queue full, waited too long) and
// timed out, connections refused at the connection limit and accept pauses, each labelled with
// the listener. Read when scraped.
#pragma once

#include <memory>
#include <string>

#include "busbar/metrics.h"
#include "http/http_server.h"

namespace busbar::host {

// Registers the listener's load metrics in `metrics`. `server` is the listener's slot, which may
// be empty until the server is made (its figures read 0 until then) and must outlive `metrics`.
void exportHttpLoadMetrics(MetricsRegistry& metrics, const std::unique_ptr<HttpServer>& server,
                           const std::string& listener_name);

}  // namespace busbar::host
