#include "rfc3339.h"

#include <cctype>
#include <stdexcept>

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>

namespace busbar::amqp {
namespace {

// Reads exactly `count` digits at `position`, advancing it.
int readDigits(const std::string& text, size_t& position, size_t count, const char* field) {
  if (position + count > text.size()) {
    throw std::invalid_argument(std::string("timestamp is cut short in its ") + field);
  }
  int value = 0;
  for (size_t i = 0; i < count; ++i) {
    char c = text[position + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      throw std::invalid_argument(std::string("timestamp has a non-digit in its ") + field);
    }
    value = value * 10 + (c - '0');
  }
  position += count;
  return value;
}

void expect(const std::string& text, size_t& position, char wanted, const char* after) {
  if (position >= text.size() || text[position] != wanted) {
    throw std::invalid_argument(std::string("timestamp lacks '") + wanted + "' after the " + after);
  }
  ++position;
}

void requireRange(int value, int low, int high, const char* field) {
  if (value < low || value > high) {
    throw std::invalid_argument(std::string("timestamp ") + field + " " + std::to_string(value) +
                                " is out of range " + std::to_string(low) + "-" +
                                std::to_string(high));
  }
}

}  // namespace

std::string formatRfc3339(const Poco::Timestamp& timestamp) {
  return Poco::DateTimeFormatter::format(timestamp, "%Y-%m-%dT%H:%M:%S.%iZ");
}

Poco::Timestamp parseRfc3339(const std::string& text) {
  if (text.size() > 64) throw std::invalid_argument("timestamp is longer than 64 characters");
  size_t position = 0;
  int year = readDigits(text, position, 4, "year");
  expect(text, position, '-', "year");
  int month = readDigits(text, position, 2, "month");
  expect(text, position, '-', "month");
  int day = readDigits(text, position, 2, "day");
  if (position >= text.size() || (text[position] != 'T' && text[position] != 't')) {
    throw std::invalid_argument("timestamp lacks 'T' between date and time");
  }
  ++position;
  int hour = readDigits(text, position, 2, "hour");
  expect(text, position, ':', "hour");
  int minute = readDigits(text, position, 2, "minute");
  expect(text, position, ':', "minute");
  int second = readDigits(text, position, 2, "second");

  int microsecond = 0;
  if (position < text.size() && text[position] == '.') {
    ++position;
    size_t digits = 0;
    while (position < text.size() && std::isdigit(static_cast<unsigned char>(text[position]))) {
      if (digits < 6) microsecond = microsecond * 10 + (text[position] - '0');
      ++digits;
      ++position;
    }
    if (digits == 0) throw std::invalid_argument("timestamp has a '.' without fraction digits");
    for (size_t i = digits; i < 6; ++i) microsecond *= 10;
  }

  int offset_minutes = 0;
  if (position < text.size() && (text[position] == 'Z' || text[position] == 'z')) {
    ++position;
  } else if (position < text.size() && (text[position] == '+' || text[position] == '-')) {
    int sign = text[position] == '-' ? -1 : 1;
    ++position;
    int offset_hours = readDigits(text, position, 2, "offset hours");
    expect(text, position, ':', "offset hours");
    int offset_rest = readDigits(text, position, 2, "offset minutes");
    requireRange(offset_hours, 0, 23, "offset hours");
    requireRange(offset_rest, 0, 59, "offset minutes");
    offset_minutes = sign * (offset_hours * 60 + offset_rest);
  } else {
    throw std::invalid_argument("timestamp lacks a time zone (Z or +HH:MM)");
  }
  if (position != text.size()) throw std::invalid_argument("timestamp has trailing characters");

  requireRange(year, 1, 9999, "year");
  requireRange(month, 1, 12, "month");
  requireRange(day, 1, Poco::DateTime::daysOfMonth(year, month), "day");
  requireRange(hour, 0, 23, "hour");
  requireRange(minute, 0, 59, "minute");
  requireRange(second, 0, 59, "second");

  Poco::DateTime local(year, month, day, hour, minute, second, microsecond / 1000,
                       microsecond % 1000);
  Poco::Timestamp utc = local.timestamp();
  utc -=
      static_cast<Poco::Timestamp::TimeDiff>(offset_minutes) * 60 * Poco::Timestamp::resolution();
  // What formatRfc3339 writes back, four-digit years after the Unix epoch.
  static const Poco::Timestamp kLast =
      Poco::DateTime(9999, 12, 31, 23, 59, 59, 999, 999).timestamp();
  if (utc < Poco::Timestamp(0) || utc > kLast) {
    throw std::invalid_argument("timestamp is out of range 1970-01-01 to 9999-12-31 in UTC");
  }
  return utc;
}

}  // namespace busbar::amqp
