// newEventId: the id the host gives an event dispatched without one.
//
// A UUID version 7 (RFC 9562) in canonical lowercase form: 48 bits of Unix time in milliseconds,
// then 74 random bits. Ids made later compare greater as text (bar ties within a millisecond), so
// the event log, keyed by event id, grows at its end: on MariaDB, whose table is stored in key
// order, a write touches the pages written just before it, not a random page of a log that is
// larger than the buffer pool. Thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace busbar::host {

// A fresh UUID version 7 for the current time.
std::string newEventId();

// The same for `unix_ms` and the given random bits (the low 74 bits of `random_high` and
// `random_low` are used: 12 and 62). For tests.
std::string makeEventId(uint64_t unix_ms, uint64_t random_high, uint64_t random_low);

}  // namespace busbar::host
