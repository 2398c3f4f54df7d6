#include "handover/handover_environment.h"

#include <cstdlib>
#include <set>
#include <stdexcept>

#include <Poco/NumberParser.h>
#include <Poco/StringTokenizer.h>

namespace busbar::host {
namespace {

[[noreturn]] void malformed(const char* variable, const std::string& value,
                            const std::string& expected) {
  throw std::runtime_error(std::string("the environment variable ") + variable + " holds '" +
                           value + "'; expected " + expected +
                           " (busbar sets it for the process that takes over at a reload; unset "
                           "it to start busbar by hand)");
}

int descriptorOf(const std::string& text, const char* variable, const std::string& value) {
  unsigned number = 0;
  if (!Poco::NumberParser::tryParseUnsigned(text, number) || number < 3 || number > 1 << 20) {
    malformed(variable, value, "descriptor numbers from 3 up");
  }
  return static_cast<int>(number);
}

constexpr char kListenersFormat[] = "NAME:FD,FD;NAME:FD (e.g. public:3,4;admin:5)";
constexpr char kReloadsFormat[] = "ok:N,failed:N,timed_out:N,last:UNIX_SECONDS";

}  // namespace

std::vector<std::string> HandoverEnvironment::variables() const {
  std::string listed;
  for (const auto& [name, fds] : listeners) {
    if (!listed.empty()) listed += ';';
    listed += name + ':';
    for (size_t i = 0; i < fds.size(); ++i) listed += (i > 0 ? "," : "") + std::to_string(fds[i]);
  }
  std::vector<std::string> variables;
  variables.push_back(std::string(kHandoverListenersVariable) + "=" + listed);
  variables.push_back(std::string(kHandoverReportFdVariable) + "=" + std::to_string(report_fd));
  variables.push_back(std::string(kReloadsVariable) + "=ok:" + std::to_string(history.succeeded) +
                      ",failed:" + std::to_string(history.failed) +
                      ",timed_out:" + std::to_string(history.timed_out) +
                      ",last:" + std::to_string(history.last_unix_seconds));
  return variables;
}

HandoverEnvironment HandoverEnvironment::parse(const std::function<const char*(const char*)>& get) {
  HandoverEnvironment environment;
  if (const char* value = get(kHandoverListenersVariable); value != nullptr && *value != '\0') {
    const std::string text = value;
    Poco::StringTokenizer groups(text, ";", Poco::StringTokenizer::TOK_TRIM);
    for (const auto& group : groups) {
      const auto colon = group.find(':');
      if (colon == 0 || colon == std::string::npos || colon + 1 == group.size()) {
        malformed(kHandoverListenersVariable, text, kListenersFormat);
      }
      auto& fds = environment.listeners[group.substr(0, colon)];
      if (!fds.empty()) malformed(kHandoverListenersVariable, text, "each listener named once");
      Poco::StringTokenizer numbers(group.substr(colon + 1), ",", Poco::StringTokenizer::TOK_TRIM);
      for (const auto& number : numbers) {
        fds.push_back(descriptorOf(number, kHandoverListenersVariable, text));
      }
    }
  }
  if (const char* value = get(kHandoverReportFdVariable); value != nullptr && *value != '\0') {
    environment.report_fd = descriptorOf(value, kHandoverReportFdVariable, value);
  }
  if (const char* value = get(kReloadsVariable); value != nullptr && *value != '\0') {
    const std::string text = value;
    Poco::StringTokenizer fields(text, ",", Poco::StringTokenizer::TOK_TRIM);
    for (const auto& field : fields) {
      const auto colon = field.find(':');
      Poco::UInt64 number = 0;
      if (colon == std::string::npos ||
          !Poco::NumberParser::tryParseUnsigned64(field.substr(colon + 1), number)) {
        malformed(kReloadsVariable, text, kReloadsFormat);
      }
      const std::string key = field.substr(0, colon);
      auto& history = environment.history;
      if (key == "ok") {
        history.succeeded = number;
      } else if (key == "failed") {
        history.failed = number;
      } else if (key == "timed_out") {
        history.timed_out = number;
      } else if (key == "last") {
        history.last_unix_seconds = static_cast<int64_t>(number);
      } else {
        malformed(kReloadsVariable, text, kReloadsFormat);
      }
    }
  }
  std::set<int> seen{environment.report_fd};
  for (const auto& [name, fds] : environment.listeners) {
    for (int fd : fds) {
      if (!seen.insert(fd).second) {
        malformed(kHandoverListenersVariable, get(kHandoverListenersVariable),
                  "each descriptor named once, none of them the report's");
      }
    }
  }
  if (!environment.listeners.empty() && environment.report_fd < 0) {
    malformed(kHandoverListenersVariable, get(kHandoverListenersVariable),
              std::string("it only with ") + kHandoverReportFdVariable);
  }
  return environment;
}

HandoverEnvironment HandoverEnvironment::take() {
  HandoverEnvironment environment = parse([](const char* name) { return std::getenv(name); });
  for (const char* name :
       {kHandoverListenersVariable, kHandoverReportFdVariable, kReloadsVariable}) {
    ::unsetenv(name);
  }
  return environment;
}

}  // namespace busbar::host
