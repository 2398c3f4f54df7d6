#include "commit_finder.h"

namespace busbar::testing {
namespace {

uint32_t littleEndian32(const unsigned char* bytes) {
  return static_cast<uint32_t>(bytes[0]) | static_cast<uint32_t>(bytes[1]) << 8 |
         static_cast<uint32_t>(bytes[2]) << 16 | static_cast<uint32_t>(bytes[3]) << 24;
}

uint32_t bigEndian32(const unsigned char* bytes) {
  return static_cast<uint32_t>(bytes[0]) << 24 | static_cast<uint32_t>(bytes[1]) << 16 |
         static_cast<uint32_t>(bytes[2]) << 8 | static_cast<uint32_t>(bytes[3]);
}

// The NUL-terminated string at `at` within [at, end), and `at` moved past it; "" when none ends.
std::string cString(const unsigned char*& at, const unsigned char* end) {
  const unsigned char* start = at;
  while (at < end && *at != 0) ++at;
  if (at == end) return "";
  return std::string(reinterpret_cast<const char*>(start), reinterpret_cast<const char*>(at++));
}

// MySQL packets: a 3-byte little-endian length, a sequence byte, then the payload.
constexpr std::size_t kMysqlHeader = 4;
constexpr unsigned char kStmtPrepare = 0x16;
constexpr unsigned char kStmtExecute = 0x17;

}  // namespace

bool CommitFinder::clientSends(const char* data, std::size_t size) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  if (protocol_ == Protocol::kMysql) {
    // A chunk may hold several commands: a statement closed (no answer) and the next prepared.
    bool runs = false;
    for (std::size_t at = 0; at + kMysqlHeader + 1 <= size;) {
      const std::size_t length = bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16;
      if (length == 0 || at + kMysqlHeader + length > size) break;  // not a packet this reads
      const unsigned char* payload = bytes + at + kMysqlHeader;
      if (payload[0] == kStmtPrepare) {
        awaiting_sql_.assign(reinterpret_cast<const char*>(payload + 1), length - 1);
        awaiting_ = true;
      } else if (payload[0] == kStmtExecute && length >= 5) {
        auto statement = mysql_statements_.find(littleEndian32(payload + 1));
        runs = runs || (statement != mysql_statements_.end() && found(statement->second));
      }
      at += kMysqlHeader + length;
    }
    return runs;
  }
  // PostgreSQL messages: a type byte, a 4-byte big-endian length (itself included), the body.
  bool runs = false;
  for (std::size_t at = 0; at + 5 <= size;) {
    const unsigned char type = bytes[at];
    const std::size_t length = bigEndian32(bytes + at + 1);
    if (length < 4 || at + 1 + length > size) break;  // not a message this reads
    const unsigned char* body = bytes + at + 5;
    const unsigned char* end = bytes + at + 1 + length;
    if (type == 'P') {
      std::string name = cString(body, end);
      // A name parsed again (the unnamed statement always is) names the new statement.
      postgres_statements_[name] = cString(body, end);
    } else if (type == 'B') {
      cString(body, end);  // the portal
      auto statement = postgres_statements_.find(cString(body, end));
      runs = runs || (statement != postgres_statements_.end() && found(statement->second));
    }
    at += 1 + length;
  }
  return runs;
}

void CommitFinder::serverSends(const char* data, std::size_t size) {
  if (protocol_ != Protocol::kMysql || !awaiting_) return;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  // COM_STMT_PREPARE_OK: 0x00, then the statement id.
  if (size >= kMysqlHeader + 5 && bytes[kMysqlHeader] == 0x00) {
    mysql_statements_[littleEndian32(bytes + kMysqlHeader + 1)] = std::move(awaiting_sql_);
  }
  awaiting_sql_.clear();
  awaiting_ = false;
}

}  // namespace busbar::testing
