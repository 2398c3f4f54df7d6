// RFC 3339 timestamps as the wire format writes them: "2024-05-01T12:34:56.789Z".
//
// Stateless functions; safe from any thread.
#pragma once

#include <string>

#include <Poco/Timestamp.h>

namespace busbar::amqp {

// `timestamp` in UTC with millisecond precision and a "Z" suffix.
std::string formatRfc3339(const Poco::Timestamp& timestamp);

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" (T or t, Z or z) into UTC, keeping
// up to microseconds; the instant must fall in 1970-9999 (UTC), what formatRfc3339 writes back.
// On anything else throws std::invalid_argument saying what is wrong.
Poco::Timestamp parseRfc3339(const std::string& text);

}  // namespace busbar::amqp
