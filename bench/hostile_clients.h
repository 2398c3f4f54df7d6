// The hostile clients of bench section 11: each attack runs against 127.0.0.1:PORT for a bounded
// time, so that bench/run can measure a normal client beside it.
#pragma once

#include <string>

namespace busbar::bench {

// Runs attack `kind` with `connections` clients for `seconds`; prints one line of what it sent.
// Kinds:
//   pipeline   each client pipelines 2000 GET /users/u0000001 at a time, reads the answers, again
//   trailer    each client sends a chunked PUT whose trailer never ends, again once refused
//   slowloris  each client sends 16,000 bytes of a head (under the 16 KiB limit), then a byte a
//              second, holding its connection
//   spin       the control: `connections` threads that only take CPU, sending nothing
// Returns 0, or 2 for an unknown kind.
int attack(const std::string& kind, int port, int connections, double seconds);

}  // namespace busbar::bench
