#include "handover/handover_environment.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

namespace busbar::host {
namespace {

HandoverEnvironment parsed(const std::map<std::string, std::string>& variables) {
  return HandoverEnvironment::parse([&](const char* name) -> const char* {
    const auto found = variables.find(name);
    return found != variables.end() ? found->second.c_str() : nullptr;
  });
}

TEST(HandoverEnvironmentTest, WhatOneProcessWritesTheNextReadsBack) {
  HandoverEnvironment sent;
  sent.listeners = {{"public", {3, 4}}, {"admin", {5}}};
  sent.report_fd = 6;
  sent.history = {7, 2, 1, 1764849600};
  std::map<std::string, std::string> variables;
  for (const auto& variable : sent.variables()) {
    const auto equals = variable.find('=');
    variables[variable.substr(0, equals)] = variable.substr(equals + 1);
  }
  EXPECT_EQ(variables.at(kHandoverListenersVariable), "admin:5;public:3,4");
  const HandoverEnvironment received = parsed(variables);
  EXPECT_TRUE(received.handedOver());
  EXPECT_EQ(received.listeners, sent.listeners);
  EXPECT_EQ(received.report_fd, 6);
  EXPECT_EQ(received.history.succeeded, 7u);
  EXPECT_EQ(received.history.failed, 2u);
  EXPECT_EQ(received.history.timed_out, 1u);
  EXPECT_EQ(received.history.last_unix_seconds, 1764849600);
}

TEST(HandoverEnvironmentTest, AProcessStartedByHandIsNotHandedOver) {
  const HandoverEnvironment none = parsed({});
  EXPECT_FALSE(none.handedOver());
  EXPECT_TRUE(none.listeners.empty());
  EXPECT_EQ(none.history.succeeded, 0u);
}

TEST(HandoverEnvironmentTest, AMalformedValueIsRefusedNamingTheVariableAndTheFormat) {
  const std::map<std::string, std::string> bad[] = {
      {{kHandoverListenersVariable, "public:3,x"}, {kHandoverReportFdVariable, "6"}},
      {{kHandoverListenersVariable, "public"}, {kHandoverReportFdVariable, "6"}},
      {{kHandoverListenersVariable, "public:1"}, {kHandoverReportFdVariable, "6"}},
      {{kHandoverListenersVariable, "public:3;public:4"}, {kHandoverReportFdVariable, "6"}},
      {{kHandoverListenersVariable, "public:3;admin:3"}, {kHandoverReportFdVariable, "6"}},
      {{kHandoverListenersVariable, "public:6"}, {kHandoverReportFdVariable, "6"}},
      {{kHandoverListenersVariable, "public:3"}},
      {{kHandoverReportFdVariable, "-1"}},
      {{kReloadsVariable, "ok:1,lost:2"}},
      {{kReloadsVariable, "ok:many"}},
  };
  for (const auto& variables : bad) {
    try {
      parsed(variables);
      ADD_FAILURE() << "accepted " << variables.begin()->second;
    } catch (const std::runtime_error& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(variables.begin()->first), std::string::npos) << message;
      EXPECT_NE(message.find("expected"), std::string::npos) << message;
    }
  }
}

}  // namespace
}  // namespace busbar::host
