// HTTP load of busbar-bench: idle keep-alive connections, a process's start until it serves,
// and paced writes (with, optionally, how long each takes to be served by another server).
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>

#include "bench_commands.h"
#include "bench_common.h"
#include "visibility_watcher.h"

namespace busbar::bench {
int idle(int port, int count, double seconds) {
  raiseOpenFileLimit();
  std::vector<std::unique_ptr<Poco::Net::StreamSocket>> sockets;
  const std::string request = "GET /users/u0000001 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  int errors = 0;
  for (int i = 0; i < count; ++i) {
    try {
      auto socket = std::make_unique<Poco::Net::StreamSocket>(
          Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
      socket->setReceiveTimeout(Poco::Timespan(10, 0));
      socket->sendBytes(request.data(), static_cast<int>(request.size()));
      std::string answer;
      char chunk[4096];
      // The answer is small: its head and body come together.
      while (answer.find("\r\n\r\n") == std::string::npos) {
        const int n = socket->receiveBytes(chunk, sizeof chunk);
        if (n <= 0) throw Poco::Exception("closed");
        answer.append(chunk, static_cast<size_t>(n));
      }
      if (answer.rfind("HTTP/1.1 200", 0) != 0) throw Poco::Exception(answer.substr(0, 40));
      sockets.push_back(std::move(socket));
    } catch (const Poco::Exception&) {
      ++errors;
    }
  }
  std::printf("ready %zu %d\n", sockets.size(), errors);
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  return 0;
}

namespace {

bool healthy(int port) {
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    session.setTimeout(Poco::Timespan(1, 0));
    return request(session, "GET", "/health").status == 200;
  } catch (const Poco::Exception&) {
    return false;
  }
}

}  // namespace

int start(int port, const std::string& log, char** argv) {
  auto started = Clock::now();
  pid_t pid = fork();
  if (pid < 0) fail("fork failed");
  if (pid == 0) {
    setsid();  // bench/run stops it by pid; it must not die with this tool
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execv(argv[0], argv);
    _exit(127);
  }
  // A refused connection costs microseconds: poll often so the figure is the server's, not ours.
  while (secondsSince(started) < 60) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) fail("the server exited; see " + log);
    if (healthy(port)) {
      std::printf("%.1f %d\n", secondsSince(started) * 1000.0, pid);
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  kill(pid, SIGKILL);
  fail("not ready within 60 s; see " + log);
}

// The watcher polls the watched server for each watched write: a write in 50 costs it next to
// nothing; every write measures the longest any write took to reach it.
int put(int port, double rate, double seconds, long ids, int watch_port, long watch_every) {
  constexpr int kConnections = 16;  // a slow write must not hold back the schedule
  if (watch_every < 1) watch_every = 1;
  const long total = static_cast<long>(rate * seconds);
  std::vector<std::vector<double>> latencies(kConnections);
  std::atomic<long> errors{0};
  std::unique_ptr<busbar::bench::VisibilityWatcher> watcher;
  if (watch_port > 0) {
    watcher =
        std::make_unique<busbar::bench::VisibilityWatcher>(watch_port, std::chrono::seconds(5));
  }
  auto started = Clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < kConnections; ++w) {
    workers.emplace_back([&, w] {
      Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
      session.setKeepAlive(true);  // else Poco closes the connection after every request
      std::mt19937_64 random(w + 1);
      // Open loop: request i is due at started + i/rate, whatever the previous ones took.
      for (long i = w; i < total; i += kConnections) {
        auto due = started + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(i / rate));
        std::this_thread::sleep_until(due);
        std::string id = userId(static_cast<long>(random() % ids));
        auto sent = Clock::now();
        try {
          Reply reply = request(session, "PUT", "/users/" + id,
                                "{\"name\":\"Paced " + std::to_string(i) + "\",\"email\":\"" + id +
                                    "@example.org\"}");
          if (reply.status != 200 && reply.status != 201) {
            ++errors;
          } else if (watcher && i % watch_every == 0) {
            watcher->watch(id, busbar::bench::versionIn(reply.body), Clock::now());
          }
        } catch (const Poco::Exception&) {
          ++errors;
          session.reset();
        }
        latencies[w].push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
      }
    });
  }
  for (auto& worker : workers) worker.join();
  double elapsed = secondsSince(started);
  std::vector<double> all;
  for (auto& part : latencies) all.insert(all.end(), part.begin(), part.end());
  std::sort(all.begin(), all.end());
  auto at = [&](double q) {
    return all.empty() ? 0.0 : all[static_cast<size_t>(q * (all.size() - 1))];
  };
  std::printf("sent %zu rate %.1f p50_us %.0f p99_us %.0f errors %ld", all.size(),
              all.size() / elapsed, at(0.5), at(0.99), errors.load());
  if (watcher) {
    auto visible = watcher->finish();
    const auto& delays = visible.delays_us;
    auto delay = [&](double q) {
      return delays.empty() ? 0.0 : delays[static_cast<size_t>(q * (delays.size() - 1))];
    };
    std::printf(
        " visible_p50_us %.0f visible_p99_us %.0f visible_max_us %.0f visible_count %zu"
        " visible_missed %ld",
        delay(0.5), delay(0.99), delay(1.0), delays.size(), visible.missed);
  }
  std::printf("\n");
  return errors.load() == 0 ? 0 : 1;
}

}  // namespace busbar::bench
