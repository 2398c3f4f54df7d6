#include "ops/liveness_monitor.h"

#include <gtest/gtest.h>

#include "server_process.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "http/http_router.h"
#include "http/http_server.h"

namespace busbar::host {
namespace {

using namespace std::chrono_literals;

using testing::eventually;

TEST(LivenessMonitorTest, ALoopBlockedByAHandlerMakesTheServerStalledUntilItAnswers) {
  std::atomic<bool> release{false};
  HttpRouter router;
  RouteOptions on_the_loop;
  on_the_loop.never_blocks = true;  // wrongly: it blocks its loop, which is what is detected
  router.add(
      "GET", "/block",
      [&](const HttpRequest&, HttpResponse&) {
        while (!release) std::this_thread::sleep_for(5ms);
      },
      on_the_loop);
  HttpListenerOptions one_loop;
  one_loop.loops = 1;
  HttpServer server(router, HttpSettings{}, Poco::Logger::get("liveness-test"), one_loop);
  server.start("127.0.0.1", 0);

  ::unsetenv("NOTIFY_SOCKET");
  SystemdNotifier notifier;
  LivenessMonitor monitor(notifier, 300ms, Poco::Logger::get("liveness-test"));
  monitor.watch(
      "public", [&] { server.pingLoops(); }, [&] { return server.longestSilence(); });
  monitor.start();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(monitor.problem(), "");

  std::thread client([&] {
    try {
      Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", server.port()));
      socket.sendBytes("GET /block HTTP/1.1\r\nHost: x\r\n\r\n", 32);
      char buffer[256];
      socket.receiveBytes(buffer, sizeof buffer);
    } catch (...) {
    }
  });
  EXPECT_TRUE(eventually([&] { return !monitor.problem().empty(); }));
  EXPECT_NE(monitor.problem().find("an event loop of the public listener has not answered"),
            std::string::npos)
      << monitor.problem();
  release = true;
  client.join();
  EXPECT_TRUE(eventually([&] { return monitor.problem().empty(); })) << monitor.problem();
  monitor.stop();
  server.stop();
}

}  // namespace
}  // namespace busbar::host
