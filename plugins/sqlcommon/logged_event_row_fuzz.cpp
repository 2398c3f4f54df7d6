// Fuzz target: an event log row as the database gives it back, through event_row::fromRow
// (busbar/logged_event_row.h). The input is the row's text columns separated by 0x1f (event_id,
// event_type, origin, payload, request_id; an empty request_id is NULL) after 24 bytes of its
// integers (seq, occurred_on, version). A row it reads turns back into the same columns; one it
// refuses says so with StorageError.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "busbar/errors.h"
#include "busbar/logged_event_row.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 24) return 0;
  int64_t numbers[3];
  std::memcpy(numbers, data, sizeof numbers);
  std::vector<std::string> texts(1);
  for (size_t i = 24; i < size; ++i) {
    if (data[i] == 0x1f) {
      texts.emplace_back();
    } else {
      texts.back() += static_cast<char>(data[i]);
    }
  }
  texts.resize(5);
  busbar::Row row{
      {"seq", numbers[0]},
      {"occurred_on", numbers[1]},
      {"version", numbers[2]},
      {"event_id", texts[0]},
      {"event_type", texts[1]},
      {"origin", texts[2]},
      {"payload", texts[3]},
      {"request_id", texts[4].empty() ? busbar::Value(std::monostate{}) : busbar::Value(texts[4])}};
  busbar::LoggedEvent logged;
  try {
    logged = busbar::event_row::fromRow(row);
  } catch (const busbar::StorageError&) {
    return 0;
  }
  const busbar::Row again = busbar::event_row::toRow(logged);
  for (const char* column :
       {"seq", "occurred_on", "version", "event_id", "event_type", "origin", "request_id"}) {
    check(again.at(column) == row.at(column));
  }
  // The payload comes back as the same object (its text may differ in spacing and key order).
  const busbar::LoggedEvent reread = busbar::event_row::fromRow(again);
  check(busbar::event_row::payloadText(reread.event) ==
        busbar::event_row::payloadText(logged.event));
  return 0;
}
