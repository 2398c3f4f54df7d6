#include "audit_log.h"

#include <sstream>

#include <Poco/JSON/Parser.h>

namespace audit {
namespace {

constexpr const char* kTable = "audit_log";

}  // namespace

std::vector<busbar::Migration> AuditLog::migrations() {
  busbar::Migration create;
  create.number = 1;
  create.description = "create audit_log";
  create.apply = [](busbar::Connection& connection) {
    busbar::TableSchema schema;
    schema.name = kTable;
    schema.columns = {
        {"event_id", busbar::ColumnType::kText, 36, false},
        {"type", busbar::ColumnType::kText, 128, false},
        {"origin", busbar::ColumnType::kText, 255, false},
        {"version", busbar::ColumnType::kInteger, 0, false},
        {"occurred_on", busbar::ColumnType::kInteger, 0, false},  // microseconds since 1970
        {"payload", busbar::ColumnType::kText, 0, false},         // the payload as JSON
    };
    schema.primary_key = {"event_id"};
    connection.createTable(schema);
  };
  busbar::Migration principal;
  principal.number = 2;
  principal.description = "audit_log.principal: who caused the event";
  principal.apply = [](busbar::Connection& connection) {
    connection.execute(std::string("ALTER TABLE ") + kTable + " ADD principal VARCHAR(255)");
  };
  return {create, principal};
}

void AuditLog::append(const busbar::Event& event, const std::string& principal) {
  std::ostringstream payload;
  event.payload->stringify(payload);
  busbar::Row row = {
      {"event_id", event.id},
      {"type", event.type},
      {"origin", event.origin},
      {"version", event.version},
      {"occurred_on", static_cast<int64_t>(event.occurred_on.epochMicroseconds())},
      {"payload", payload.str()},
      {"principal", principal.empty() ? busbar::Value(std::monostate{}) : busbar::Value(principal)},
  };
  try {
    connection_->insert(kTable, row);
  } catch (const busbar::DuplicateKey&) {
    // Delivered before: the log already has it.
  }
}

std::vector<AuditEntry> AuditLog::list(int64_t limit, int64_t offset) {
  busbar::FindOptions options;
  options.order_by = {"occurred_on", "event_id"};
  options.limit = limit;
  options.offset = offset;
  std::vector<AuditEntry> entries;
  for (const auto& row : connection_->findAll(kTable, {}, options)) {
    AuditEntry entry;
    busbar::Event& event = entry.event;
    event.id = busbar::asText(row.at("event_id"));
    event.type = busbar::asText(row.at("type"));
    event.origin = busbar::asText(row.at("origin"));
    event.version = busbar::asInt(row.at("version"));
    event.occurred_on = Poco::Timestamp(busbar::asInt(row.at("occurred_on")));
    Poco::JSON::Parser parser;
    event.payload =
        parser.parse(busbar::asText(row.at("payload"))).extract<Poco::JSON::Object::Ptr>();
    entry.principal = busbar::asText(row.at("principal"));  // "" for NULL
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace audit
