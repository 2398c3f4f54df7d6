// The options of an operators' route that only reads what other threads keep: served on the
// event loop, with the query parameters it takes.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "busbar/http.h"

namespace busbar::host {

inline RouteOptions neverBlocks(std::vector<std::string> query = {}) {
  RouteOptions options;
  options.never_blocks = true;
  options.query_parameters = std::move(query);
  return options;
}

}  // namespace busbar::host
