// The real binary (local + SQLite + composed users) while its database is locked and a storm of
// writes arrives: cached reads are served throughout, every write is answered (done, 503 or 504)
// and none waits past [http] request_timeout_seconds, what is answered 503 is not written, and
// the bodies that wait are bounded by [http] max_queued, not by the clients.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include "busbar/abi.h"
#include "sqlite_server.h"

namespace busbar::testing {
namespace {

using namespace std::chrono_literals;

// ThreadSanitizer keeps shadow memory beside the memory a process touches (its documentation says
// 5-10x in all); 200 unbounded bodies still pass the bound times this.
#if defined(BUSBAR_SANITIZES_THREAD)
constexpr size_t kShadowFactor = 3;
#else
constexpr size_t kShadowFactor = 1;
#endif

// The process's peak resident memory (VmHWM), in bytes.
size_t peakResidentBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// The names of the checks that a /readyz body lists as failing.
std::set<std::string> failingChecks(const std::string& body) {
  std::set<std::string> names;
  const auto failing = parseObject(body)->getArray("failing");
  for (size_t i = 0; i < failing->size(); ++i) names.insert(failing->getElement<std::string>(i));
  return names;
}

// The status code of the first answer on `socket` (0 when none came).
int readStatus(Poco::Net::StreamSocket& socket) {
  std::string head;
  char buffer[4096];
  while (head.find("\r\n") == std::string::npos) {
    int n = 0;
    try {
      n = socket.receiveBytes(buffer, sizeof buffer);
    } catch (const Poco::Exception&) {
      return 0;
    }
    if (n <= 0) return 0;
    head.append(buffer, static_cast<size_t>(n));
  }
  return head.size() >= 12 ? std::stoi(head.substr(9, 3)) : 0;
}

// The sanitizer options in this process's `variable` (colon-separated), and `option` after them.
[[maybe_unused]] std::string withOption(const char* variable, const std::string& option) {
  const char* options = std::getenv(variable);
  return options != nullptr ? std::string(options) + ":" + option : option;
}

// The server's environment: on the sanitizer build, freed memory is not held in quarantine, so
// that the peak resident memory shows what the server keeps, not what ASan does.
std::map<std::string, std::string> serverEnvironment() {
#if defined(BUSBAR_SANITIZES_ADDRESS)
  return {{"ASAN_OPTIONS", withOption("ASAN_OPTIONS", "quarantine_size_mb=0")}};
#else
  return {};
#endif
}

// SQLite's write lock on `db`, held by a sqlite3 process from construction (held() says when it
// has it: it may wait for the server's own write) until destruction, at most two minutes (a
// test failure when it ended that way). .bail keeps it from saying it holds the lock when BEGIN
// failed.
class DatabaseLock {
 public:
  DatabaseLock(const std::string& db, const std::string& work_dir)
      : locked_(work_dir + "/locked"), release_(work_dir + "/release") {
    std::remove(locked_.c_str());
    std::remove(release_.c_str());
    holder_ = std::thread([this, db] {
      runShell("(echo .bail on; echo .timeout 10000; echo 'BEGIN EXCLUSIVE;'; echo '.shell touch " +
                   locked_ + "'; for i in $(seq 1200); do [ -e '" + release_ +
                   "' ] && break; sleep 0.1; done; [ -e '" + release_ +
                   "' ] || echo 'no release in two minutes' >&2; echo 'COMMIT;') | sqlite3 '" + db +
                   "'",
               output_);
    });
  }
  ~DatabaseLock() {
    std::ofstream(release_).put('\n');
    holder_.join();
    EXPECT_EQ(output_.find("no release in two minutes"), std::string::npos)
        << "the database lock ended before the test let it go: " << output_;
  }
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;

  bool held() const { return std::ifstream(locked_).good(); }

 private:
  std::string locked_;
  std::string release_;
  std::string output_;  // what the holder printed; read once it ended
  std::thread holder_;
};

// The server's environment for a test that uses up its descriptors. UndefinedBehaviorSanitizer's
// vptr check reads an object's type through a pipe (LLVM 14's IsAccessibleMemoryRange); with no
// descriptor left, it cannot, and reports "object has invalid vptr" for a sound object. That
// check recovers on the sanitizer build (CMakePresets.json), so here it goes on; the test then
// looks at what was reported (unexplainedSanitizerReports).
std::map<std::string, std::string> environmentAtTheDescriptorLimit() {
#if defined(BUSBAR_SANITIZES_ADDRESS)
  return {{"UBSAN_OPTIONS", withOption("UBSAN_OPTIONS", "halt_on_error=0")}};
#else
  return {};
#endif
}

// The sanitizer reports in `output` other than a vptr check that could not read memory. Such a
// report is its "runtime error" line, then "0x...: note: object has invalid vptr", then
// "<memory cannot be printed>"; the server's own log lines may come between them.
size_t unexplainedSanitizerReports(const std::string& output) {
  enum class Awaiting { kReport, kNote, kMemory };
  const std::string unreadable_note = ": note: object has invalid vptr";
  Awaiting awaiting = Awaiting::kReport;
  size_t unexplained = 0;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("runtime error: ") != std::string::npos) {
      if (awaiting != Awaiting::kReport) ++unexplained;  // the one before ended unexplained
      awaiting = Awaiting::kNote;
    } else if (awaiting == Awaiting::kNote && line.rfind("0x", 0) == 0) {
      const bool unreadable = line.size() >= unreadable_note.size() &&
                              line.compare(line.size() - unreadable_note.size(),
                                           unreadable_note.size(), unreadable_note) == 0;
      if (!unreadable) ++unexplained;
      awaiting = unreadable ? Awaiting::kMemory : Awaiting::kReport;
    } else if (awaiting == Awaiting::kMemory && line.rfind('<', 0) == 0) {
      if (line != "<memory cannot be printed>") ++unexplained;
      awaiting = Awaiting::kReport;
    }
  }
  if (awaiting != Awaiting::kReport) ++unexplained;
  return unexplained;
}

TEST(OverloadTest, ALockedDatabaseUnderAWriteStormShedsWritesAndServesCachedReads) {
  TempDir dir;
  ServerProcess server(dir.write("host.conf", sqliteConfig(dir.path(),
                                                           "[http]\nworkers = 4\nmax_queued = 20\n"
                                                           "request_timeout_seconds = 2\n")),
                       {}, serverEnvironment());
  server.start();
  ASSERT_EQ(server.request("PUT", "/users/reader", R"({"name":"cached"})").status, 201);
  const size_t peak_before = peakResidentBytes(server.pid());

  // Another process holds the database's write lock until every write is answered.
  const std::string db = dir.path() + "/busbar.db";
  auto lock = std::make_unique<DatabaseLock>(db, dir.path());
  ASSERT_TRUE(eventually([&] { return lock->held(); }));

  // 200 writes with bodies of about 1 MiB (whitespace in valid JSON), all sent before any answer
  // is read: each is read whole, then queued for a worker or refused. While they arrive, /readyz
  // says the server turns writes away, so that a load balancer sends them elsewhere. It is asked
  // between two writes: once they stop coming, the queue empties within request_timeout_seconds
  // and the server is ready again, locked database or not (a loaded machine can take that long
  // to ask once the storm is over).
  constexpr int kWrites = 200;
  const std::string padding(1000000, ' ');
  std::vector<std::unique_ptr<Poco::Net::StreamSocket>> writes;
  bool said_overloaded = false;
  std::string last_readyz;  // the last /readyz body asked for
  for (int i = 0; i < kWrites; ++i) {
    const std::string body = R"({"name":"storm")" + padding + "}";
    auto socket = std::make_unique<Poco::Net::StreamSocket>(
        Poco::Net::SocketAddress("127.0.0.1", static_cast<uint16_t>(server.port())));
    socket->setReceiveTimeout(Poco::Timespan(30, 0));
    const std::string request = "PUT /users/storm" + std::to_string(i) +
                                " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                "Content-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    socket->sendBytes(request.data(), static_cast<int>(request.size()));
    writes.push_back(std::move(socket));
    if (!said_overloaded) {
      auto ready = server.request("GET", "/readyz");
      said_overloaded =
          ready.status == 503 && failingChecks(ready.body).count("not_overloaded") == 1;
      last_readyz = ready.body;
    }
  }
  EXPECT_TRUE(said_overloaded) << "/readyz never failed not_overloaded during the storm; last:\n"
                               << last_readyz;
  // The cached read is served while the writes wait.
  for (int i = 0; i < 20; ++i) {
    auto read = server.request("GET", "/users/reader");
    EXPECT_EQ(read.status, 200) << read.body;
  }
  std::map<int, std::vector<int>> by_status;  // status -> writes
  for (int i = 0; i < kWrites; ++i)
    by_status[readStatus(*writes[static_cast<size_t>(i)])].push_back(i);
  lock.reset();
  for (const auto& [status, which] : by_status) {
    std::cout << which.size() << " writes answered " << status << "\n";
    EXPECT_TRUE(status == 201 || status == 503 || status == 504)
        << which.size() << " writes answered " << status << " (0: no answer)";
  }
  EXPECT_GE(by_status[503].size(), static_cast<size_t>(kWrites - 4 - 20 - 20))
      << "past the 4 workers and 20 queued, the writes were refused";
  // The bodies waiting at once were bounded by max_queued (and the workers), not 200 MiB.
  const size_t peak_after = peakResidentBytes(server.pid());
  EXPECT_LT(peak_after - peak_before, kShadowFactor * 100 * 1024 * 1024)
      << "peak resident memory grew from " << peak_before << " to " << peak_after << " bytes";

  // The metrics count each refusal where it happened.
  const std::string metrics = server.request("GET", "/metrics").body;
  auto value = [&](const std::string& series) {
    const auto at = metrics.find("\n" + series + " ");
    return at == std::string::npos ? -1.0 : std::stod(metrics.substr(at + series.size() + 2));
  };
  EXPECT_EQ(
      value(R"(busbar_http_requests_shed_total{listener="public",reason="queue_full"})") +
          value(R"(busbar_http_requests_shed_total{listener="public",reason="waited_too_long"})"),
      static_cast<double>(by_status[503].size()))
      << metrics;
  EXPECT_EQ(value(R"(busbar_http_requests_timed_out_total{listener="public"})"),
            static_cast<double>(by_status[504].size()));
  EXPECT_GT(value(R"(busbar_http_worker_queue_wait_seconds_total{listener="public"})"), 0.0);

  // Nothing answered 503 was written.
  for (int i : by_status[503]) {
    EXPECT_EQ(server.request("GET", "/users/storm" + std::to_string(i)).status, 404) << i;
  }
  std::string output;
  ASSERT_EQ(runShell("sqlite3 -cmd '.timeout 5000' '" + db +
                         "' \"SELECT id FROM users WHERE id LIKE 'storm%'\"",
                     output),
            0)
      << output;
  for (int i : by_status[503]) {
    EXPECT_EQ(output.find("storm" + std::to_string(i) + "\n"), std::string::npos) << i;
  }
  // Once the lock is gone the server is ready and writes again.
  EXPECT_TRUE(eventually([&] { return server.request("GET", "/readyz").status == 200; }));
  auto after = server.request("PUT", "/users/after", R"({"name":"after"})");
  EXPECT_EQ(after.status, 201) << after.body;
}

// The process runs out of descriptors (its open file limit lowered to 256 while it serves, then
// 400 clients): accepting pauses and the rest wait in the backlog, said once per 10 s rather than
// every pause; once clients leave, it serves again, its database session intact.
TEST(OverloadTest, OutOfDescriptorsAcceptingPausesQuietlyAndResumes) {
  TempDir dir;
  ServerProcess server(dir.write("host.conf", sqliteConfig(dir.path())), {},
                       environmentAtTheDescriptorLimit());
  server.start();
  ASSERT_EQ(server.request("PUT", "/users/before", R"({"name":"b"})").status, 201);
  std::string output;
  ASSERT_EQ(runShell("prlimit --pid " + std::to_string(server.pid()) + " --nofile=256:256", output),
            0)
      << output;
  std::vector<std::unique_ptr<Poco::Net::StreamSocket>> clients;
  for (int i = 0; i < 400; ++i) {
    try {
      clients.push_back(std::make_unique<Poco::Net::StreamSocket>(
          Poco::Net::SocketAddress("127.0.0.1", static_cast<uint16_t>(server.port()))));
    } catch (const Poco::Exception& error) {
      FAIL() << "client " << i << " could not connect: " << error.displayText()
             << "; the server says:\n"
             << server.output();
    }
  }
  ASSERT_TRUE(eventually([&] {
    return server.output().find("cannot accept connections: Too many open files") !=
           std::string::npos;
  })) << server.output();
  std::this_thread::sleep_for(1s);  // ten pauses of each loop
  clients.resize(100);              // 300 leave
  HttpResult put;
  try {
    put = server.request("PUT", "/users/after", R"({"name":"a"})");
  } catch (const Poco::Exception& error) {
    FAIL() << "the server could not be asked once 300 clients left: " << error.displayText()
           << " (server " << (server.running() ? "running" : "gone") << "); it says:\n"
           << server.output();
  }
  EXPECT_EQ(put.status, 201) << put.body;
  const std::string metrics = server.request("GET", "/metrics").body;
  const std::string pauses = R"(busbar_http_accept_pauses_total{listener="public"} )";
  const auto at = metrics.find(pauses);
  ASSERT_NE(at, std::string::npos) << metrics;
  const double paused = std::stod(metrics.substr(at + pauses.size()));
  EXPECT_GE(paused, 10.0);  // each loop pauses 100 ms at a time for that second
  // Said once per loop in the 10 s, not once per pause.
  size_t said = 0;
  const std::string text = server.output();
  for (auto found = text.find("cannot accept connections"); found != std::string::npos;
       found = text.find("cannot accept connections", found + 1)) {
    ++said;
  }
  EXPECT_LT(static_cast<double>(said) * 3, paused) << text;
  EXPECT_EQ(unexplainedSanitizerReports(text), 0u) << text;
}

}  // namespace
}  // namespace busbar::testing
