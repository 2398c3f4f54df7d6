#include "http/http_metrics.h"

namespace busbar::host {
namespace {

const char* const kMethodNames[] = {"GET",    "HEAD",  "POST",    "PUT",
                                    "DELETE", "PATCH", "OPTIONS", "other"};
const char* const kClassNames[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
constexpr const char* kRequests = "busbar_http_requests_total";
constexpr const char* kDuration = "busbar_http_request_duration_seconds";
constexpr const char* kConnections = "busbar_http_connections_open";

}  // namespace

HttpMetrics::Method HttpMetrics::methodOf(llhttp_method_t method) {
  switch (method) {
    case HTTP_GET:
      return kGet;
    case HTTP_HEAD:
      return kHead;
    case HTTP_POST:
      return kPost;
    case HTTP_PUT:
      return kPut;
    case HTTP_DELETE:
      return kDelete;
    case HTTP_PATCH:
      return kPatch;
    case HTTP_OPTIONS:
      return kOptions;
    default:
      return kOtherMethod;
  }
}

HttpMetrics::LoopCells::LoopCells(size_t routes)
    : answers_(routes * kMethods * kStatusClasses),
      buckets_(routes * kMethods * (kBounds + 1)),
      sums_ns_(routes * kMethods) {}

HttpMetrics::Listener::Listener(std::string name, const HttpRouter& router, size_t loops)
    : name_(std::move(name)), routes_(router.patterns()) {
  routes_.push_back("(unmatched)");
  for (size_t i = 0; i < loops; ++i) loops_.push_back(std::make_unique<LoopCells>(routes_.size()));
}

void HttpMetrics::Listener::attach(std::function<int()> open_connections) {
  std::lock_guard<std::mutex> lock(mutex_);
  open_connections_ = std::move(open_connections);
}

void HttpMetrics::Listener::detach() {
  std::lock_guard<std::mutex> lock(mutex_);
  open_connections_ = nullptr;
}

HttpMetrics::Listener& HttpMetrics::addListener(const std::string& name, const HttpRouter& router,
                                                size_t loops) {
  std::lock_guard<std::mutex> lock(mutex_);
  listeners_.push_back(std::make_unique<Listener>(name, router, loops));
  return *listeners_.back();
}

std::vector<CollectedFamily> HttpMetrics::families() const {
  return {{kRequests, MetricType::kCounter},
          {kDuration, MetricType::kHistogram},
          {kConnections, MetricType::kGauge}};
}

void HttpMetrics::collect(PrometheusText& out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<double> bounds;
  for (uint64_t bound : kBoundsNs) bounds.push_back(static_cast<double>(bound) / 1e9);
  auto sum = [](const Listener& listener, auto member, size_t index) {
    uint64_t total = 0;
    for (const auto& loop : listener.loops_) {
      total += ((*loop).*member)[index].load(std::memory_order_relaxed);
    }
    return total;
  };

  out.family(kRequests,
             "HTTP requests answered, by listener, route template, method and status class",
             MetricType::kCounter);
  for (const auto& listener : listeners_) {
    for (size_t route = 0; route < listener->routes_.size(); ++route) {
      for (size_t method = 0; method < kMethods; ++method) {
        const size_t series = route * kMethods + method;
        for (size_t status_class = 0; status_class < kStatusClasses; ++status_class) {
          const uint64_t count =
              sum(*listener, &LoopCells::answers_, series * kStatusClasses + status_class);
          if (count == 0) continue;
          out.sample(kRequests,
                     {{"listener", listener->name_},
                      {"method", kMethodNames[method]},
                      {"route", listener->routes_[route]},
                      {"status", kClassNames[status_class]}},
                     count);
        }
      }
    }
  }

  out.family(kDuration,
             "Time from a request's first bytes read to its answer queued, by listener, route "
             "template and method",
             MetricType::kHistogram);
  for (const auto& listener : listeners_) {
    for (size_t route = 0; route < listener->routes_.size(); ++route) {
      for (size_t method = 0; method < kMethods; ++method) {
        const size_t series = route * kMethods + method;
        std::vector<uint64_t> counts;
        uint64_t total = 0;
        for (size_t bucket = 0; bucket <= kBounds; ++bucket) {
          counts.push_back(sum(*listener, &LoopCells::buckets_, series * (kBounds + 1) + bucket));
          total += counts.back();
        }
        if (total == 0) continue;
        const double seconds =
            static_cast<double>(sum(*listener, &LoopCells::sums_ns_, series)) / 1e9;
        out.histogram(kDuration,
                      {{"listener", listener->name_},
                       {"method", kMethodNames[method]},
                       {"route", listener->routes_[route]}},
                      bounds, counts, seconds);
      }
    }
  }

  out.family(kConnections, "HTTP connections open now, by listener", MetricType::kGauge);
  for (const auto& listener : listeners_) {
    std::lock_guard<std::mutex> attached(listener->mutex_);
    const int open = listener->open_connections_ ? listener->open_connections_() : 0;
    out.sample(kConnections, {{"listener", listener->name_}}, static_cast<uint64_t>(open));
  }
}

}  // namespace busbar::host
