// The commands of busbar-bench (usage: busbar_bench.cpp), one function each. Each prints its
// figures on stdout and returns the process's exit status; a failure it cannot go on from ends
// the process through fail() (bench_common.h).
#pragma once

#include <string>

namespace busbar::bench {

// baseline_servers.cpp: serve FILE's bytes on PORT until killed.
int serve(int port, const std::string& file);
int serveReactor(int port, const std::string& file);

// http_load.cpp
int idle(int port, int count, double seconds);
int start(int port, const std::string& log, char** argv);
int put(int port, double rate, double seconds, long ids, int watch_port, long watch_every);

// amqp_load.cpp
int publish(const std::string& url, const std::string& exchange, long count, double rate, long ids,
            int window);
int publisherAlone(const std::string& url, const std::string& exchange, long count, long ids);
int apply(const std::string& url, const std::string& exchange, long count, long ids, int port,
          double timeout_seconds);

}  // namespace busbar::bench
