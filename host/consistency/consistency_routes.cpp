#include "consistency/consistency_routes.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "ops/json_text.h"
#include "ops/never_blocks.h"

namespace busbar::host {
namespace {

// The query parameter `name` as a number, or `fallback` when absent; 400 when it is not one.
double number(const HttpRequest& request, const std::string& name, double fallback) {
  auto found = request.query.find(name);
  if (found == request.query.end()) return fallback;
  const std::string& text = found->second;
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    throw HttpError(400, name + " must be a number, not '" + text + "'");
  }
  return value;
}

}  // namespace

void addConsistencyRoutes(Routes& routes, HostConsistencyObserver& observer) {
  routes.add(
      "GET", "/admin/consistency",
      [&observer](const HttpRequest&, HttpResponse& response) {
        response.body = jsonText(*observer.figures());
      },
      neverBlocks());
  routes.add(
      "POST", "/admin/consistency",
      [&observer](const HttpRequest& request, HttpResponse& response) {
        if (request.query.empty()) {
          throw HttpError(400,
                          "give rows_per_second, full_pass_seconds or both, e.g. "
                          "POST /admin/consistency?rows_per_second=2000");
        }
        auto current = observer.figures();
        const double rows_per_second =
            number(request, "rows_per_second", current->getValue<double>("rows_per_second"));
        const double full_pass =
            number(request, "full_pass_seconds", current->getValue<double>("full_pass_seconds"));
        try {
          if (!(full_pass >= 1 && full_pass <= 2592000) || full_pass != std::floor(full_pass)) {
            throw std::invalid_argument(
                "full_pass_seconds must be whole seconds between 1 and 2592000 (30 days), not " +
                request.query.at("full_pass_seconds"));
          }
          observer.adjust(rows_per_second, std::chrono::seconds(static_cast<int64_t>(full_pass)));
        } catch (const std::invalid_argument& error) {
          throw HttpError(400, error.what());
        }
        response.body = jsonText(*observer.figures());
      },
      neverBlocks({"rows_per_second", "full_pass_seconds"}));
}

}  // namespace busbar::host
