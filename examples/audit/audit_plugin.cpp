// audit: a domain module that keeps every event this server delivers.
//
// It subscribes to every event type ("_all") on the inline bus, appends each event and who caused
// it (SDK 1.6's EventContext) to the table audit_log through the storage Connection (AuditLog;
// the table comes from its migrations), and serves GET /audit?limit=&offset= to read the log
// back, oldest first. [audit] has no keys. It
// counts what it audits in a metric of its own, which busbar exports beside its own at
// GET /metrics (SDK 1.1).
#include <memory>
#include <sstream>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/NumberParser.h>
#include <busbar/busbar.h>

#include "audit_log.h"

namespace audit {
namespace {

// The query parameter `name` as an integer in [min, max], `fallback` when absent.
int64_t queryNumber(const busbar::HttpRequest& request, const std::string& name, int64_t fallback,
                    int64_t min, int64_t max) {
  auto found = request.query.find(name);
  if (found == request.query.end()) return fallback;
  Poco::Int64 value = 0;
  if (!Poco::NumberParser::tryParse64(found->second, value) || value < min || value > max) {
    throw busbar::BadRequest("query parameter '" + name + "' must be an integer from " +
                             std::to_string(min) + " to " + std::to_string(max) + "; found '" +
                             found->second + "'");
  }
  return value;
}

Poco::JSON::Object::Ptr toJson(const AuditEntry& entry) {
  const busbar::Event& event = entry.event;
  Poco::JSON::Object::Ptr json = new Poco::JSON::Object;
  json->set("id", event.id);
  json->set("type", event.type);
  json->set("origin", event.origin);
  json->set("version", event.version);
  json->set("occurred_on",
            Poco::DateTimeFormatter::format(event.occurred_on, "%Y-%m-%dT%H:%M:%S.%iZ"));
  json->set("payload", event.payload);
  json->set("principal", entry.principal);
  return json;
}

class AuditPlugin : public busbar::Plugin {
 public:
  void init(busbar::PluginContext& context) override {
    context.config().rejectUnknownKeys({});
    auto connection = context.registry().require<busbar::Connection>("storage", "the audit module");
    for (auto& migration : AuditLog::migrations()) {
      context.migrations().add("audit", std::move(migration));
    }
    log_ = std::make_unique<AuditLog>(connection);
    busbar::Counter& audited = context.metrics().counter(
        "audit_events_recorded_total",
        "Events this server's audit module handled: written to audit_log, or found there");

    // Low priority: the domain's own subscribers of an event run before it is audited.
    context.subscriptions().subscribeWithContext(
        busbar::kAllEvents, -1000,
        [this, &audited](const busbar::Event& event, const busbar::EventContext& caused) {
          log_->append(event, caused.principal);
          audited.increment();
        });

    context.routes().add(
        "GET", "/audit",
        [this](const busbar::HttpRequest& request, busbar::HttpResponse& response) {
          int64_t limit = queryNumber(request, "limit", 100, 1, 1000);
          int64_t offset = queryNumber(request, "offset", 0, 0, INT64_MAX / 2);
          Poco::JSON::Array::Ptr events = new Poco::JSON::Array;
          for (const auto& entry : log_->list(limit, offset)) {
            events->add(toJson(entry));
          }
          Poco::JSON::Object body;
          body.set("events", events);
          std::ostringstream out;
          body.stringify(out);
          response.body = out.str();
        });
  }

 private:
  std::unique_ptr<AuditLog> log_;
};

}  // namespace
}  // namespace audit

BUSBAR_PLUGIN(BUSBAR_KIND_MODULE, "audit", "1.0.0", audit::AuditPlugin)
