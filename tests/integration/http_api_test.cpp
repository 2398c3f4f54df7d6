// Every route and every error of the users HTTP API, on the real binary.
#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>

#include "sqlite_server.h"

namespace busbar::testing {
namespace {

class HttpApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    server_ = new ServerProcess(
        dir_->write("host.conf", sqliteConfig(dir_->path(), "[http]\nmax_body = 4096\n")));
    server_->start();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(), 0) << server_->output();
    delete server_;
    delete dir_;
  }

  static HttpResult put(const std::string& id, const std::string& body) {
    return server_->request("PUT", "/users/" + id, body);
  }

  // Asserts an error status and a JSON body {"error": "..."} containing `text`.
  static void expectError(const HttpResult& result, int status, const std::string& text) {
    EXPECT_EQ(result.status, status) << result.body;
    auto body = parseObject(result.body);
    ASSERT_TRUE(body->has("error")) << result.body;
    EXPECT_NE(body->getValue<std::string>("error").find(text), std::string::npos) << result.body;
    EXPECT_NE(result.headers.at("Content-Type").find("application/json"), std::string::npos);
  }

  static TempDir* dir_;
  static ServerProcess* server_;
};

TempDir* HttpApiTest::dir_ = nullptr;
ServerProcess* HttpApiTest::server_ = nullptr;

TEST_F(HttpApiTest, PutCreatesThenUpdatesAndEachWriteIsReadableAtOnce) {
  auto created = put("alice", R"({"name":"Alice","email":"alice@example.com"})");
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.body,
            R"({"id":"alice","name":"Alice","email":"alice@example.com","version":1})");
  EXPECT_EQ(server_->request("GET", "/users/alice").body, created.body);

  auto updated = put("alice", R"({"name":"Alice B."})");
  EXPECT_EQ(updated.status, 200);
  EXPECT_EQ(updated.body, R"({"id":"alice","name":"Alice B.","email":null,"version":2})");
  EXPECT_EQ(server_->request("GET", "/users/alice").body, updated.body);
}

TEST_F(HttpApiTest, DeleteThenRecreateKeepsCountingVersions) {
  ASSERT_EQ(put("bob", R"({"name":"Bob"})").status, 201);
  EXPECT_EQ(server_->request("DELETE", "/users/bob").status, 204);
  expectError(server_->request("GET", "/users/bob"), 404, "user 'bob' not found");
  expectError(server_->request("DELETE", "/users/bob"), 404, "not found");
  auto again = put("bob", R"({"name":"Bob again"})");
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(parseObject(again.body)->getValue<int>("version"), 3);
}

TEST_F(HttpApiTest, ListIsSortedAndPaged) {
  for (const char* id : {"list-c", "list-a", "list-b"}) {
    ASSERT_EQ(put(id, R"({"name":"x"})").status, 201);
  }
  auto all = parseObject(server_->request("GET", "/users?limit=1000").body);
  auto users = all->getArray("users");
  std::vector<std::string> ids;
  for (size_t i = 0; i < users->size(); ++i) {
    ids.push_back(users->getObject(static_cast<unsigned>(i))->getValue<std::string>("id"));
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  auto position = std::find(ids.begin(), ids.end(), "list-a") - ids.begin();

  auto page = parseObject(
      server_->request("GET", "/users?limit=2&offset=" + std::to_string(position)).body);
  auto paged = page->getArray("users");
  ASSERT_EQ(paged->size(), 2u);
  EXPECT_EQ(paged->getObject(0)->getValue<std::string>("id"), "list-a");
  EXPECT_EQ(paged->getObject(1)->getValue<std::string>("id"), "list-b");
}

TEST_F(HttpApiTest, ListRejectsBadPaging) {
  expectError(server_->request("GET", "/users?limit=0"), 400,
              "'limit' must be an integer from 1 to 1000");
  expectError(server_->request("GET", "/users?limit=1001"), 400, "'limit'");
  expectError(server_->request("GET", "/users?limit=ten"), 400, "found 'ten'");
  expectError(server_->request("GET", "/users?offset=-1"), 400, "'offset'");
}

TEST_F(HttpApiTest, UnknownQueryParametersAreRefusedNamingTheAllowedOnes) {
  expectError(server_->request("GET", "/users?foo=1"), 400,
              "unknown query parameter 'foo'; GET /users takes only: limit, offset");
  expectError(server_->request("GET", "/users?limit=5&lmit=6"), 400,
              "unknown query parameter 'lmit'");
  expectError(server_->request("GET", "/users/alice?fields=name"), 400,
              "unknown query parameter 'fields'; GET /users/{id} takes none");
  expectError(server_->request("PUT", "/users/query?dry_run=1", R"({"name":"Q"})"), 400,
              "unknown query parameter 'dry_run'; PUT /users/{id} takes none");
  EXPECT_EQ(server_->request("GET", "/users?limit=5&offset=0").status, 200);
}

TEST_F(HttpApiTest, BadIdsAreRefused) {
  expectError(put(std::string(65, 'a'), R"({"name":"x"})"), 400, "1-64 characters");
  expectError(put("bad%21id", R"({"name":"x"})"), 400, "[A-Za-z0-9_.-]");
  expectError(server_->request("GET", "/users/" + std::string(65, 'b')), 400, "user id");
  expectError(server_->request("DELETE", "/users/a%20b"), 400, "user id");
  EXPECT_EQ(put(std::string(64, 'z'), R"({"name":"x"})").status, 201);
}

TEST_F(HttpApiTest, BadBodiesAreRefusedWithTheReason) {
  expectError(put("carol", "{not json"), 400, "not valid JSON");
  expectError(put("carol", "[1,2]"), 400, "must be a JSON object");
  expectError(put("carol", ""), 400, "must be a JSON object");
  expectError(put("carol", R"({"email":"c@x.io"})"), 400, "'name' is required");
  expectError(put("carol", R"({"name":42})"), 400, "'name' must be a string");
  expectError(put("carol", R"({"name":""})"), 400, "1-100 characters");
  expectError(put("carol", R"({"name":")" + std::string(101, 'n') + R"("})"), 400, "found 101");
  expectError(put("carol", R"({"name":"C","email":"nope"})"), 400, "exactly one '@'");
  expectError(put("carol", R"({"name":"C","email":"a@b@c"})"), 400, "exactly one '@'");
  expectError(put("carol", R"({"name":"C","email":7})"), 400, "'email' must be a string");
  expectError(put("carol", R"({"name":"C","admin":true})"), 400, "unknown field 'admin'");
  expectError(put("carol", "{\"name\":\"caf\xe9\"}"), 400,
              "request body is not valid UTF-8: byte 0xe9 at offset 12");
  expectError(server_->request("GET", "/users/carol"), 404, "not found");
}

TEST_F(HttpApiTest, NamesCountCharactersNotBytes) {
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "\xC3\xA9";  // é, two bytes each
  auto result = put("dave", R"({"name":")" + hundred + R"(","email":null})");
  EXPECT_EQ(result.status, 201) << result.body;
  EXPECT_EQ(parseObject(result.body)->getValue<std::string>("name"), hundred);
}

TEST_F(HttpApiTest, TransportLevelErrors) {
  expectError(httpRequest(server_->port(), "PUT", "/users/erin", R"({"name":"E"})", "text/plain"),
              415, "application/json");
  expectError(put("erin", R"({"name":")" + std::string(5000, 'x') + R"("})"), 413,
              "over the limit of 4096 bytes");
  expectError(server_->request("GET", "/nothing"), 404, "no route for GET /nothing");
  auto wrong = server_->request("POST", "/users/erin", R"({"name":"E"})");
  expectError(wrong, 405, "not allowed");
  // GET routes serve HEAD too, so Allow lists it.
  EXPECT_EQ(wrong.headers.at("Allow"), "DELETE, GET, HEAD, PUT");

  EXPECT_EQ(httpRequest(server_->port(), "PUT", "/users/erin", R"({"name":"E"})",
                        "application/json; charset=utf-8")
                .status,
            201);
  auto got = server_->request("GET", "/users/erin");
  auto head = server_->request("HEAD", "/users/erin");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.headers.at("Content-Length"), std::to_string(got.body.size()));
}

TEST_F(HttpApiTest, HealthReportsTheServerAndItsEvents) {
  ASSERT_EQ(put("frank", R"({"name":"F"})").status, 201);
  auto health = parseObject(server_->request("GET", "/health").body);
  EXPECT_EQ(health->getValue<std::string>("status"), "ok");
  EXPECT_GT(health->getObject("events")->getValue<int>("dispatched"), 0);
  EXPECT_EQ(health->getArray("failing")->size(), 0u);

  // The metrics are Prometheus text; resets live on the admin listener only.
  auto metrics = server_->request("GET", "/metrics");
  EXPECT_NE(metrics.headers.at("Content-Type").find("text/plain; version=0.0.4"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("\nbusbar_events_dispatched_total "), std::string::npos);
  EXPECT_EQ(server_->request("DELETE", "/metrics/apply_lag").status, 404);
}

}  // namespace
}  // namespace busbar::testing
