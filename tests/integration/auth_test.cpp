// Bearer tokens and scopes on the real binary over real sockets: the users API, a third-party
// module's routes that declare their scope (tests/fixtures/caller_module.cpp), the admin
// listener, the access log, and secrets that never leave.
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "sqlite_server.h"

namespace busbar::testing {
namespace {

// The secrets, each granted to one token below.
constexpr const char* kReader = "reader-5f0c2a9d4b7e1f3a";
constexpr const char* kDeploy = "deploy-8e1b7c3d9a2f4e6b";
constexpr const char* kReports = "reports-1a2b3c4d5e6f7a8b";
constexpr const char* kOps = "ops-9f8e7d6c5b4a3f2e1d0c";

std::map<std::string, std::string> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

class AuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    for (const auto& [name, secret] : {std::pair<std::string, std::string>{"reader", kReader},
                                       {"reports", kReports},
                                       {"ops", kOps}}) {
      const std::string file = dir_->write(name + ".token", secret + "\n");
      ::chmod(file.c_str(), 0600);
    }
    server_ = new ServerProcess(dir_->write("host.conf", config(/*open_reads=*/true)), {},
                                {{"BUSBAR_TEST_DEPLOY_TOKEN", kDeploy}});
    server_->start();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(), 0) << server_->output();
    delete server_;
    delete dir_;
  }

  // local + sqlite + users + the caller module + the audit example, with every token above.
  static std::string config(bool open_reads) {
    std::string text = sqliteConfig(
        dir_->path(),
        "[http]\nauth = bearer\nopen_reads = " + std::string(open_reads ? "true" : "false") +
            "\n"
            "[log]\naccess = true\naccess_file = " +
            dir_->path() + "/access.log\n" +
            "[token.reader]\nscopes = read\nfile = reader.token\n"
            "[token.deploy]\nscopes = write, read\nenv = BUSBAR_TEST_DEPLOY_TOKEN\n"
            "[token.reports]\nscopes = reports\nfile = reports.token\n"
            "[token.ops]\nscopes = admin\nfile = ops.token\n");
    const std::string plugins = "plugins = local, sqlite, users\n";
    text.replace(text.find(plugins), plugins.size(),
                 "plugins = local, sqlite, users, caller, audit\nplugin_dir = " + buildDir() +
                     "/lib/busbar/plugins, " + buildDir() + "/test-modules\n");
    return text;
  }

  static HttpResult call(const std::string& method, const std::string& path,
                         const std::string& token = "", const std::string& body = "",
                         bool admin = false) {
    return httpRequest(admin ? server_->adminPort() : server_->port(), method, path, body,
                       "application/json",
                       token.empty() ? std::map<std::string, std::string>{} : bearer(token));
  }

  // Asserts a JSON error with `status` whose message holds `text`.
  static void expectError(const HttpResult& result, int status, const std::string& text) {
    EXPECT_EQ(result.status, status) << result.body;
    auto body = parseObject(result.body);
    ASSERT_TRUE(body->has("error")) << result.body;
    EXPECT_NE(body->getValue<std::string>("error").find(text), std::string::npos) << result.body;
  }

  static TempDir* dir_;
  static ServerProcess* server_;
};

TempDir* AuthTest::dir_ = nullptr;
ServerProcess* AuthTest::server_ = nullptr;

TEST_F(AuthTest, AWriteWithoutAValidTokenIs401WithABearerChallenge) {
  const std::string body = R"({"name":"Ada"})";
  auto missing = call("PUT", "/users/auth-1", "", body);
  expectError(missing, 401,
              "PUT /users/{id} needs a bearer token with scope 'write'; send Authorization: "
              "Bearer <token>");
  EXPECT_EQ(missing.headers["WWW-Authenticate"], R"(Bearer realm="busbar", scope="write")");

  auto unknown = call("PUT", "/users/auth-1", "deploy-0000000000000000", body);
  expectError(unknown, 401, "the bearer token sent is not one this server grants");
  EXPECT_EQ(unknown.headers["WWW-Authenticate"], R"(Bearer realm="busbar", error="invalid_token")");

  auto basic = httpRequest(server_->port(), "PUT", "/users/auth-1", body, "application/json",
                           {{"Authorization", "Basic ZGVwbG95OnNlY3JldA=="}});
  expectError(basic, 401, "takes only bearer tokens");

  // Nothing of the refused writes reached the database.
  expectError(call("GET", "/users/auth-1"), 404, "not found");
}

TEST_F(AuthTest, ATokenWithoutTheScopeIs403AndOneWithItWrites) {
  auto reader = call("PUT", "/users/auth-2", kReader, R"({"name":"Ada"})");
  expectError(reader, 403,
              "token 'reader' does not hold scope 'write', which PUT /users/{id} needs; it "
              "holds: read");
  EXPECT_EQ(reader.headers["WWW-Authenticate"],
            R"(Bearer realm="busbar", error="insufficient_scope", scope="write")");

  EXPECT_EQ(call("PUT", "/users/auth-2", kDeploy, R"({"name":"Ada"})").status, 201);
  // Reads stay open: no token needed, and any token still reads.
  EXPECT_EQ(call("GET", "/users/auth-2").status, 200);
  EXPECT_EQ(call("GET", "/users/auth-2", kReader).status, 200);
  expectError(call("DELETE", "/users/auth-2", kReader), 403, "scope 'write'");
  EXPECT_EQ(call("DELETE", "/users/auth-2", kDeploy).status, 204);
}

// The events a write emits carry its token's name to the subscribers (SDK 1.6's EventContext):
// the audit example keeps it beside each event.
TEST_F(AuthTest, TheAuditTrailNamesTheTokenOfEachWrite) {
  ASSERT_EQ(call("PUT", "/users/auth-audit", kDeploy, R"({"name":"Ada"})").status, 201);
  ASSERT_EQ(call("DELETE", "/users/auth-audit", kDeploy).status, 204);
  const std::vector<std::string> expected = {"UserWasCreated by deploy",
                                             "UserWasDeleted by deploy"};
  std::vector<std::string> seen;
  // The audit subscriber may run after the PUT was answered.
  eventually([&] {
    seen.clear();
    auto audit = parseObject(call("GET", "/audit?limit=1000").body)->getArray("events");
    for (size_t i = 0; i < audit->size(); ++i) {
      auto entry = audit->getObject(i);
      if (entry->getObject("payload")->optValue<std::string>("id", "") != "auth-audit") continue;
      seen.push_back(entry->getValue<std::string>("type") + " by " +
                     entry->getValue<std::string>("principal"));
    }
    return seen == expected;
  });
  EXPECT_EQ(seen, expected);
}

TEST_F(AuthTest, AThirdPartyModulesRoutesGetTheScopeTheyDeclareAndTheirCaller) {
  // Its own scope: granted only to the token that lists it.
  expectError(call("POST", "/caller/reports", kDeploy), 403, "does not hold scope 'reports'");
  auto reports = call("POST", "/caller/reports", kReports);
  EXPECT_EQ(reports.status, 200) << reports.body;
  EXPECT_EQ(reports.body, R"({"principal":"reports","scopes":["reports"]})");

  // Public: anyone, and a valid token still names its caller; a token no longer granted is
  // refused even here, so that its client learns it.
  EXPECT_EQ(call("POST", "/caller/hook").body, R"({"principal":"","scopes":[]})");
  EXPECT_EQ(call("POST", "/caller/hook", kDeploy).body,
            R"({"principal":"deploy","scopes":["read","write"]})");
  expectError(call("POST", "/caller/hook", "revoked-0123456789abcdef"), 401,
              "the bearer token sent is not one this server grants");

  // Undeclared GET: a read, open.
  EXPECT_EQ(call("GET", "/caller").body, R"({"principal":"","scopes":[]})");
  EXPECT_EQ(call("GET", "/caller", kReader).body, R"({"principal":"reader","scopes":["read"]})");

  // Admin on the public listener.
  expectError(call("DELETE", "/caller", kDeploy), 403, "scope 'admin'");
  EXPECT_EQ(call("DELETE", "/caller", kOps).body, R"({"principal":"ops","scopes":["admin"]})");
}

TEST_F(AuthTest, TheAdminListenerNeedsTheAdminScopeButItsProbesAreOpen) {
  expectError(call("GET", "/admin/config", "", "", /*admin=*/true), 401, "scope 'admin'");
  expectError(call("GET", "/admin/config", kDeploy, "", /*admin=*/true), 403, "scope 'admin'");
  expectError(call("POST", "/admin/resync", kDeploy, "", /*admin=*/true), 403, "scope 'admin'");
  auto config = call("GET", "/admin/config", kOps, "", /*admin=*/true);
  EXPECT_EQ(config.status, 200) << config.body;
  for (const char* secret : {kReader, kDeploy, kReports, kOps}) {
    EXPECT_EQ(config.body.find(secret), std::string::npos) << config.body;
  }
  EXPECT_NE(config.body.find(R"("deploy.scopes":"write, read")"), std::string::npos) << config.body;
  for (const char* probe : {"/health", "/livez", "/readyz", "/metrics"}) {
    EXPECT_EQ(call("GET", probe, "", "", /*admin=*/true).status, 200) << probe;
    EXPECT_EQ(call("GET", probe).status, 200) << probe;
  }
}

TEST_F(AuthTest, TheAccessLogNamesTheCallerAndNoSecretLeavesTheServer) {
  ASSERT_EQ(call("PUT", "/users/auth-3", kDeploy, R"({"name":"Ada"})").status, 201);
  ASSERT_EQ(call("PUT", "/users/auth-4", kReader, R"({"name":"Ada"})").status, 403);
  const std::string log_file = dir_->path() + "/access.log";
  std::string log;
  ASSERT_TRUE(eventually([&] {
    std::ifstream in(log_file);
    std::stringstream text;
    text << in.rdbuf();
    log = text.str();
    return log.find("\"PUT /users/auth-4\" 403") != std::string::npos;
  })) << log;
  const auto lineWith = [&log](const std::string& text) {
    const auto start = log.rfind('\n', log.find(text)) + 1;
    return log.substr(start, log.find('\n', start) - start);
  };
  EXPECT_NE(lineWith("\"PUT /users/auth-3\" 201").find(" principal=deploy"), std::string::npos)
      << log;
  // A refused attempt names who made it.
  EXPECT_NE(lineWith("\"PUT /users/auth-4\" 403").find(" principal=reader"), std::string::npos)
      << log;
  for (const char* secret : {kReader, kDeploy, kReports, kOps}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "in the access log";
    EXPECT_EQ(server_->output().find(secret), std::string::npos) << "in the server's log";
  }
  auto plugins = call("GET", "/admin/plugins", kOps, "", /*admin=*/true);
  EXPECT_EQ(plugins.status, 200);
  EXPECT_EQ(plugins.body.find(kDeploy), std::string::npos);
}

TEST_F(AuthTest, WithReadsClosedAReadNeedsATokenOfScopeRead) {
  TempDir dir;
  ServerProcess closed(dir.write(
      "host.conf", sqliteConfig(dir.path(),
                                "[http]\nauth = bearer\nopen_reads = false\n"
                                "[log]\nformat = json\naccess = true\naccess_file = " +
                                    dir.path() + "/access.json\n" +
                                    "[token.reader]\nscopes = read\nfile = " + dir_->path() +
                                    "/reader.token\n")));
  closed.start();
  auto anonymous = closed.request("GET", "/users/nobody");
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  EXPECT_NE(anonymous.body.find("GET /users/{id} needs a bearer token with scope 'read'"),
            std::string::npos)
      << anonymous.body;
  EXPECT_EQ(
      httpRequest(closed.port(), "GET", "/users/nobody", "", "application/json", bearer(kReader))
          .status,
      404);
  EXPECT_EQ(closed.request("HEAD", "/users/nobody").status, 401) << "HEAD is its GET's read";
  // The JSON access log names the caller in a field of its own.
  std::string line;
  ASSERT_TRUE(eventually([&] {
    std::ifstream in(dir.path() + "/access.json");
    for (std::string next; std::getline(in, next);) {
      if (next.find("\"status\":404") != std::string::npos) line = next;
    }
    return !line.empty();
  }));
  auto entry = parseObject(line);
  EXPECT_EQ(entry->getValue<std::string>("principal"), "reader") << line;
  EXPECT_EQ(entry->getValue<std::string>("target"), "/users/nobody") << line;
  // Probes stay open; /metrics is a read.
  EXPECT_EQ(closed.request("GET", "/health").status, 200);
  EXPECT_EQ(closed.request("GET", "/metrics").status, 401);
  EXPECT_EQ(closed.stop(), 0) << closed.output();
}

// busbar plugins (and every command but the server itself) reads no secret: an operator who may
// not read the tokens still lists the plugins.
TEST(AuthConfigTest, TheCommandsThatDoNotServeReadNoSecret) {
  TempDir dir;
  const std::string file =
      dir.write("host.conf", sqliteConfig(dir.path(),
                                          "[http]\nauth = bearer\n[token.deploy]\nscopes = "
                                          "write\nenv = BUSBAR_TEST_UNSET_DEPLOY_TOKEN\n"));
  std::string output;
  EXPECT_EQ(runBusbar({"plugins", "--config", file}, output), 0) << output;
  EXPECT_NE(output.find("users"), std::string::npos) << output;
  // The server does read them, and stops without its secret.
  EXPECT_EQ(runBusbar({"--config", file, "--check-config"}, output), 2) << output;
  EXPECT_NE(output.find("[token.deploy] env must name an environment variable that holds the "
                        "token; found 'BUSBAR_TEST_UNSET_DEPLOY_TOKEN', which is not set"),
            std::string::npos)
      << output;
}

TEST(AuthConfigTest, ABadTokenStopsTheHostNamingTheFileSectionAndFix) {
  TempDir dir;
  const std::string token = dir.write("deploy.token", std::string(kDeploy) + "\n");
  ::chmod(token.c_str(), 0644);
  const std::string file =
      dir.write("host.conf", sqliteConfig(dir.path(),
                                          "[http]\nauth = bearer\n[token.deploy]\nscopes = "
                                          "write\nfile = deploy.token\n"));
  std::string output;
  EXPECT_EQ(runBusbar({"--config", file, "--check-config"}, output), 2) << output;
  for (const char* part : {"host.conf: [token.deploy] file must be readable by no other user",
                           "chmod 600", "mode 0644"}) {
    EXPECT_NE(output.find(part), std::string::npos) << "missing '" << part << "' in:\n" << output;
  }
  EXPECT_EQ(output.find(kDeploy), std::string::npos) << output;
}

}  // namespace
}  // namespace busbar::testing
