#include "ops/log_formatters.h"

#include <gtest/gtest.h>

#include <Poco/JSON/Parser.h>
#include <Poco/Message.h>

#include "ops/request_context.h"

namespace busbar::host {
namespace {

Poco::JSON::Object::Ptr parse(const std::string& line) {
  Poco::JSON::Parser parser;
  return parser.parse(line).extract<Poco::JSON::Object::Ptr>();
}

TEST(LogFormattersTest, AJsonLineHoldsTheFieldsAndTheRequestIdWhenThereIsOne) {
  JsonLogFormatter formatter("app-1:8000");
  Poco::Message message("busbar.users", "loaded \"7\" users\nin 3 ms", Poco::Message::PRIO_WARNING);
  std::string outside;
  formatter.format(message, outside);
  EXPECT_EQ(outside.find('\n'), std::string::npos) << outside;
  auto line = parse(outside);
  EXPECT_EQ(line->getValue<std::string>("level"), "warning");
  EXPECT_EQ(line->getValue<std::string>("logger"), "busbar.users");
  EXPECT_EQ(line->getValue<std::string>("message"), "loaded \"7\" users\nin 3 ms");
  EXPECT_EQ(line->getValue<std::string>("server_id"), "app-1:8000");
  EXPECT_FALSE(line->has("request_id"));
  const std::string time = line->getValue<std::string>("time");
  EXPECT_EQ(time.size(), 24u) << time;  // 2024-05-01T12:34:56.789Z
  EXPECT_EQ(time.back(), 'Z');

  std::string inside;
  {
    RequestScope scope("req-42", "");
    formatter.format(message, inside);
  }
  EXPECT_EQ(parse(inside)->getValue<std::string>("request_id"), "req-42");
}

TEST(LogFormattersTest, BytesThatAreNotUtf8StillMakeAJsonLine) {
  JsonLogFormatter formatter("s");
  Poco::Message message("busbar", std::string("bad \xff\xfe bytes \x01 end"),
                        Poco::Message::PRIO_ERROR);
  std::string text;
  formatter.format(message, text);
  EXPECT_NO_THROW(parse(text)) << text;
}

TEST(LogFormattersTest, LevelsAreSpelledAsLogPipelinesExpect) {
  EXPECT_STREQ(JsonLogFormatter::levelName(Poco::Message::PRIO_INFORMATION), "info");
  EXPECT_STREQ(JsonLogFormatter::levelName(Poco::Message::PRIO_DEBUG), "debug");
  EXPECT_STREQ(JsonLogFormatter::levelName(Poco::Message::PRIO_FATAL), "fatal");
}

TEST(LogFormattersTest, TheTextLineEndsWithTheRequestIdWhenThereIsOne) {
  TextLogFormatter formatter;
  Poco::Message message("busbar.users", "hello", Poco::Message::PRIO_INFORMATION);
  std::string outside;
  formatter.format(message, outside);
  EXPECT_NE(outside.find("Information busbar.users: hello"), std::string::npos) << outside;
  EXPECT_EQ(outside.find("request_id"), std::string::npos);
  RequestScope scope("abc", "");
  std::string inside;
  formatter.format(message, inside);
  EXPECT_NE(inside.find("hello request_id=abc"), std::string::npos) << inside;
}

}  // namespace
}  // namespace busbar::host
