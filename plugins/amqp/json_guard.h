// Checks that run on untrusted bytes before a JSON parser sees them.
//
// A parser is the wrong place to find out that input is 100 levels deep or not UTF-8: it may
// recurse, or pass invalid text on to subscribers. Stateless functions; safe from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace busbar::amqp {

// The byte offset of the first invalid UTF-8 sequence (overlong forms, surrogates and code
// points above U+10FFFF are invalid), or nothing when `text` is valid.
std::optional<size_t> findInvalidUtf8(const std::string& text);

// The deepest nesting of arrays and objects in `json`, ignoring brackets inside strings. Stops
// counting once `limit` is exceeded and returns limit + 1.
size_t jsonNestingDepth(const std::string& json, size_t limit);

}  // namespace busbar::amqp
