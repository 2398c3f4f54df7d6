// The installed busbar (install.prefix) running the example plugins built out of tree against it
// (install.examples): drop-in deployment, `busbar plugins`, lookup by descriptor name, the
// installed default config, and refusal of a plugin folder other users may write.
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Process.h>
#include <Poco/StringTokenizer.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>

#include "busbar/abi.h"

#include "server_process.h"

// The SDK's ABI as listings show it, such as "1.3".
#define kAbi BUSBAR_STRINGIFY(BUSBAR_ABI_MAJOR) "." BUSBAR_STRINGIFY(BUSBAR_ABI_MINOR)

namespace busbar::testing {
namespace {

const std::string kPrefix = BUSBAR_INSTALL_PREFIX;
const std::string kExamplePlugins = BUSBAR_EXAMPLE_PLUGINS;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string quoted(const std::vector<std::string>& args) {
  std::string command = "exec '" + kPrefix + "/bin/busbar'";
  for (const auto& arg : args) command += " '" + arg + "'";
  return command;
}

// Runs the installed busbar with `args` to completion: the exit code; `output` gets stdout and
// stderr.
int runInstalled(const std::vector<std::string>& args, std::string& output) {
  TempDir logs;
  std::string log = logs.path() + "/out.log";
  Poco::ProcessHandle handle =
      Poco::Process::launch("/bin/sh", {"-c", quoted(args) + " >'" + log + "' 2>&1"}, logs.path());
  int code = handle.wait();
  output = readFile(log);
  return code;
}

Poco::JSON::Object::Ptr parseObject(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

// The installed busbar serving on a free port, stdout and stderr kept apart (the stdout transport
// writes its events on stdout). Stopped with SIGTERM, killed if the test ends first.
class InstalledServer {
 public:
  explicit InstalledServer(std::string config) : config_(std::move(config)), port_(freePort()) {}
  ~InstalledServer() {
    if (handle_ && Poco::Process::isRunning(*handle_)) {
      Poco::Process::kill(*handle_);
      handle_->wait();
    }
  }

  void start() {
    std::string command =
        quoted({"--config", config_, "--bind", "127.0.0.1:" + std::to_string(port_)}) + " >'" +
        logs_.path() + "/stdout' 2>'" + logs_.path() + "/stderr'";
    handle_ = std::make_unique<Poco::ProcessHandle>(
        Poco::Process::launch("/bin/sh", {"-c", command}, logs_.path()));
    bool ready = eventually([this] {
      if (!Poco::Process::isRunning(*handle_)) return true;
      try {
        return httpRequest(port_, "GET", "/health").status == 200;
      } catch (const std::exception&) {
        return false;
      }
    });
    if (!ready || !Poco::Process::isRunning(*handle_)) {
      throw std::runtime_error("the installed busbar did not become ready; stderr:\n" + err());
    }
  }

  int stop() {
    Poco::Process::requestTermination(handle_->id());
    int code = handle_->wait();
    handle_.reset();
    return code;
  }

  HttpResult request(const std::string& method, const std::string& path,
                     const std::string& body = "") const {
    return httpRequest(port_, method, path, body);
  }

  std::string out() const { return readFile(logs_.path() + "/stdout"); }
  std::string err() const { return readFile(logs_.path() + "/stderr"); }

 private:
  std::string config_;
  int port_;
  TempDir logs_;
  std::unique_ptr<Poco::ProcessHandle> handle_;
};

class InstalledHostTest : public ::testing::Test {
 protected:
  InstalledHostTest() {
    Poco::File(dropin_).createDirectories();
    ::chmod(dropin_.c_str(), 0755);
  }

  // Copies the example plugin `file` into the drop-in folder as `as`.
  void drop(const std::string& file, const std::string& as) {
    Poco::File(kExamplePlugins + "/" + file).copyTo(dropin_ + "/" + as);
  }

  // host.conf for `plugins` from the drop-in folder, then the installed bundled ones.
  std::string config(const std::string& plugins, const std::string& transport, bool pass_through) {
    return dir_.write(
        "host.conf", "[host]\nplugins = " + plugins + "\nplugin_dir = " + dropin_ + ", " + kPrefix +
                         "/lib/busbar/plugins\n[event_bus]\ntransport = " + transport +
                         "\nexchanges.events = busbar.events\nrouter._all = events\n" +
                         "async_pass_through = " + (pass_through ? "true" : "false") +
                         "\n[storage]\ndriver = sqlite\nsqlite.path = " + dir_.path() +
                         "/db/busbar.db\n");
  }

  void expectOutput(std::initializer_list<std::string> parts) {
    for (const auto& part : parts) {
      EXPECT_NE(output_.find(part), std::string::npos) << "missing '" << part << "' in:\n"
                                                       << output_;
    }
  }

  TempDir dir_;
  std::string dropin_ = dir_.path() + "/plugins.d";
  std::string output_;
};

// The audit log as (type, payload id) pairs.
std::vector<std::pair<std::string, std::string>> auditOf(const InstalledServer& server,
                                                         const std::string& query = "") {
  HttpResult result = server.request("GET", "/audit" + query);
  if (result.status != 200) throw std::runtime_error("GET /audit: " + result.body);
  std::vector<std::pair<std::string, std::string>> entries;
  auto events = parseObject(result.body)->getArray("events");
  for (size_t i = 0; i < events->size(); ++i) {
    auto event = events->getObject(static_cast<unsigned>(i));
    entries.emplace_back(event->getValue<std::string>("type"),
                         event->getObject("payload")->getValue<std::string>("id"));
  }
  return entries;
}

TEST_F(InstalledHostTest, ExamplesRunFromADropInFolderOnTheStdoutTransport) {
  drop("audit.so", "audit.so");
  drop("stdout.so", "stdout.so");
  // Without pass-through, subscribers (audit among them) only hear what the transport delivers.
  InstalledServer server(config("stdout, sqlite, users, audit", "stdout", false));
  server.start();
  ASSERT_EQ(server.request("PUT", "/users/alice", R"({"name":"Alice"})").status, 201);
  ASSERT_EQ(server.request("DELETE", "/users/alice").status, 204);

  using Entries = std::vector<std::pair<std::string, std::string>>;
  Entries expected = {{"UserWasCreated", "alice"}, {"UserWasDeleted", "alice"}};
  EXPECT_TRUE(eventually([&] { return auditOf(server) == expected; })) << server.err();
  EXPECT_EQ(auditOf(server, "?limit=1&offset=1"), Entries({{"UserWasDeleted", "alice"}}));
  EXPECT_EQ(server.request("GET", "/audit?limit=0").status, 400);

  // One JSON line per event on stdout, the wire body plus the exchange.
  Poco::StringTokenizer lines(server.out(), "\n", Poco::StringTokenizer::TOK_IGNORE_EMPTY);
  ASSERT_EQ(lines.count(), 2u) << server.out();
  auto created = parseObject(lines[0]);
  EXPECT_EQ(created->getValue<std::string>("exchange"), "busbar.events");
  EXPECT_EQ(created->getValue<std::string>("type"), "UserWasCreated");
  EXPECT_EQ(created->getValue<int64_t>("version"), 1);
  EXPECT_EQ(created->getObject("payload")->getValue<std::string>("name"), "Alice");
  EXPECT_EQ(parseObject(lines[1])->getValue<std::string>("type"), "UserWasDeleted");
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(InstalledHostTest, AuditKeepsEachEventOnceAcrossARestart) {
  drop("audit.so", "audit.so");
  std::string file = config("local, sqlite, users, audit", "local", true);
  {
    InstalledServer server(file);
    server.start();
    ASSERT_EQ(server.request("PUT", "/users/bob", R"({"name":"Bob"})").status, 201);
    EXPECT_TRUE(eventually([&] { return auditOf(server).size() == 1; }));
    EXPECT_EQ(server.stop(), 0);
  }
  InstalledServer again(file);
  again.start();
  ASSERT_EQ(again.request("PUT", "/users/bob", R"({"name":"Robert"})").status, 200);
  using Entries = std::vector<std::pair<std::string, std::string>>;
  Entries expected = {{"UserWasCreated", "bob"}, {"UserWasUpdated", "bob"}};
  EXPECT_TRUE(eventually([&] { return auditOf(again) == expected; })) << again.err();
  EXPECT_EQ(again.err().find("applied migration audit"), std::string::npos)
      << "the migration ran twice:\n"
      << again.err();
  EXPECT_EQ(again.stop(), 0);
}

TEST_F(InstalledHostTest, APluginIsFoundByItsDescriptorNameWhateverItsFileName) {
  drop("audit.so", "audit-1.0.0.so");
  std::string file = config("local, sqlite, users, audit", "local", true);
  EXPECT_EQ(runInstalled({"--config", file, "--check-config"}, output_), 0) << output_;
  expectOutput(
      {"host.conf: ok", "audit (module 1.0.0, ABI " kAbi ") from " + dropin_ + "/audit-1.0.0.so"});
}

TEST_F(InstalledHostTest, ADropInFolderOtherUsersMayWriteIsRefused) {
  drop("audit.so", "audit.so");
  ::chmod(dropin_.c_str(), 0777);
  std::string file = config("local, sqlite, users, audit", "local", true);
  EXPECT_EQ(runInstalled({"--config", file, "--check-config"}, output_), 2) << output_;
  expectOutput({"plugin folder " + dropin_, "writable by other users", "chmod o-w " + dropin_});
}

TEST_F(InstalledHostTest, PluginsListsTheDropInFolder) {
  drop("audit.so", "audit.so");
  drop("stdout.so", "stdout.so");
  EXPECT_EQ(runInstalled({"plugins", "--plugin-dir", dropin_}, output_), 0) << output_;
  expectOutput({"plugin folder 1 of 1: " + dropin_,
                "audit (audit.so)\n    kind module, version 1.0.0, ABI " kAbi ", requires nothing",
                "stdout (stdout.so)\n    kind transport, version 1.0.0, ABI " kAbi,
                "    status ok"});
  EXPECT_EQ(Poco::StringTokenizer(output_, "\n").count("    status ok"), 2u) << output_;
}

TEST_F(InstalledHostTest, PluginsListsAsJsonWithTheHostsBuildSignature) {
  drop("audit.so", "audit.so");
  drop("stdout.so", "stdout.so");
  ASSERT_EQ(runInstalled({"plugins", "--plugin-dir", dropin_, "--json"}, output_), 0) << output_;
  auto root = parseObject(output_);
  std::string host_signature = root->getObject("host")->getValue<std::string>("build_signature");
  auto plugins = root->getArray("plugins");
  ASSERT_EQ(plugins->size(), 2u) << output_;
  std::map<std::string, std::string> kinds;
  for (size_t i = 0; i < plugins->size(); ++i) {
    auto plugin = plugins->getObject(static_cast<unsigned>(i));
    kinds[plugin->getValue<std::string>("name")] = plugin->getValue<std::string>("kind");
    EXPECT_EQ(plugin->getValue<std::string>("status"), "ok");
    EXPECT_TRUE(plugin->getValue<bool>("ok"));
    EXPECT_EQ(plugin->getValue<std::string>("abi"), kAbi);
    EXPECT_EQ(plugin->getValue<std::string>("build_signature"), host_signature);
    EXPECT_EQ(plugin->getArray("requires")->size(), 0u);
  }
  EXPECT_EQ(kinds,
            (std::map<std::string, std::string>{{"audit", "module"}, {"stdout", "transport"}}));
}

TEST_F(InstalledHostTest, TheInstalledDefaultConfigAndBundledPluginsWork) {
  // No --config: <prefix>/etc/busbar/host.conf, with the bundled plugins of <prefix>.
  EXPECT_EQ(runInstalled({"--check-config"}, output_), 0) << output_;
  expectOutput(
      {kPrefix + "/etc/busbar/host.conf: ok",
       "users (module 1.0.0, ABI " kAbi ") from " + kPrefix + "/lib/busbar/plugins/users.so"});
  EXPECT_EQ(runInstalled({"plugins"}, output_), 0) << output_;
  expectOutput({"plugin folder 1 of 1: " + kPrefix + "/lib/busbar/plugins\n", "local (local.so)",
                "sqlite (sqlite.so)", "users (users.so)"});
}

}  // namespace
}  // namespace busbar::testing
