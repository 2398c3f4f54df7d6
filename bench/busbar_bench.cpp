// busbar-bench: the measuring tools bench/run drives. Every loop is bounded (a count or a
// duration) and every connection goes to 127.0.0.1.
//
//   serve PORT FILE                     baseline: a bare Poco HTTPServer (a thread per
//                                       connection) answering every request with FILE's bytes
//   serve-reactor PORT FILE             baseline: Poco's SocketReactor, one per core behind a
//                                       ParallelSocketAcceptor, answering every request head
//                                       with FILE's bytes (no parsing beyond finding its end)
//   idle PORT COUNT SECONDS             opens COUNT keep-alive connections, sends GET
//                                       /users/u0000001 on each and reads the answer, prints
//                                       "ready <open> <errors>", holds them SECONDS
//   start PORT LOG -- CMD ARGS...       execs CMD (output to LOG), prints "<ms> <pid>" once
//                                       GET /health on PORT answers 200, leaves it running
//   put PORT RATE SECONDS IDS [WATCH_PORT [WATCH_EVERY]]
//                                       paced PUT /users/u<n> at RATE/s over 16 keep-alive
//                                       connections; prints sent, achieved rate, p50/p99 us;
//                                       with WATCH_PORT, also how long after its answer every
//                                       WATCH_EVERY-th write (default 50) is served by that
//                                       server (p50/p99/max us, samples, missed after 5 s)
//   publish AMQP_URL EXCHANGE COUNT RATE IDS [WINDOW]
//                                       publishes COUNT UserWasUpdated envelopes (RATE 0 = as
//                                       fast as possible; WINDOW > 0 = publisher confirms, at
//                                       most WINDOW unconfirmed); prints count, seconds, rate
//   publisher AMQP_URL EXCHANGE COUNT IDS
//                                       the amqp transport's own publisher (plugins/amqp
//                                       AmqpPublisher, busbar's settings) publishing COUNT user
//                                       events, no HTTP or database in front; prints count,
//                                       seconds, confirmed/s, CPU us per event of this process
//   attack KIND PORT CONNECTIONS SECONDS
//                                       a hostile load (hostile_clients.h: pipeline, trailer,
//                                       slowloris; spin, the control) for SECONDS
//   apply AMQP_URL EXCHANGE COUNT IDS PORT TIMEOUT
//                                       publishes COUNT events unpaced, waits until the server
//                                       on PORT has delivered COUNT more; prints count, seconds,
//                                       applied/s, us per event (or "timeout" and how many)
// AMQP_URL: amqp://user:password@127.0.0.1:5672/vhost (vhost not escaped; "/" is the default).
#include <iostream>
#include <string>

#include "bench_commands.h"
#include "bench_common.h"
#include "hostile_clients.h"

namespace {

int usage() {
  std::cerr << "usage: busbar-bench serve PORT FILE | serve-reactor PORT FILE |\n"
               "       idle PORT COUNT SECONDS | start PORT LOG -- CMD ARGS... |\n"
               "       put PORT RATE SECONDS IDS [WATCH_PORT [WATCH_EVERY]] |\n"
               "       publish AMQP_URL EXCHANGE COUNT RATE IDS [WINDOW] |\n"
               "       publisher AMQP_URL EXCHANGE COUNT IDS |\n"
               "       apply AMQP_URL EXCHANGE COUNT IDS PORT TIMEOUT |\n"
               "       attack pipeline|trailer|slowloris|spin PORT CONNECTIONS SECONDS\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace busbar::bench;
  if (argc < 2) return usage();
  std::string command = argv[1];
  try {
    if (command == "serve" && argc == 4) return serve(std::stoi(argv[2]), argv[3]);
    if (command == "serve-reactor" && argc == 4) return serveReactor(std::stoi(argv[2]), argv[3]);
    if (command == "idle" && argc == 5) {
      return idle(std::stoi(argv[2]), std::stoi(argv[3]), std::stod(argv[4]));
    }
    if (command == "start" && argc >= 6 && std::string(argv[4]) == "--") {
      return start(std::stoi(argv[2]), argv[3], argv + 5);
    }
    if (command == "put" && argc >= 6 && argc <= 8) {
      return put(std::stoi(argv[2]), std::stod(argv[3]), std::stod(argv[4]), std::stol(argv[5]),
                 argc >= 7 ? std::stoi(argv[6]) : 0, argc == 8 ? std::stol(argv[7]) : 50);
    }
    if (command == "publish" && (argc == 7 || argc == 8)) {
      return publish(argv[2], argv[3], std::stol(argv[4]), std::stod(argv[5]), std::stol(argv[6]),
                     argc == 8 ? std::stoi(argv[7]) : 0);
    }
    if (command == "publisher" && argc == 6) {
      return publisherAlone(argv[2], argv[3], std::stol(argv[4]), std::stol(argv[5]));
    }
    if (command == "attack" && argc == 6) {
      raiseOpenFileLimit();
      const int code = attack(argv[2], std::stoi(argv[3]), std::stoi(argv[4]), std::stod(argv[5]));
      if (code != 2) return code;
    }
    if (command == "apply" && argc == 8) {
      return apply(argv[2], argv[3], std::stol(argv[4]), std::stol(argv[5]), std::stoi(argv[6]),
                   std::stod(argv[7]));
    }
  } catch (const std::exception& error) {
    fail(error.what());
  }
  return usage();
}
