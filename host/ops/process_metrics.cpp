#include "ops/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace busbar::host {
namespace {

struct ProcStat {
  double cpu_seconds = 0;
  double start_seconds = 0;  // since the epoch
  double virtual_bytes = 0;
  double resident_bytes = 0;
  bool ok = false;
};

// /proc/self/stat: utime (14), stime (15), starttime (22), vsize (23), rss (24), after the
// command's parenthesis, which may itself hold spaces.
ProcStat readStat() {
  ProcStat stat;
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return stat;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14) utime = std::stod(field);
    if (index == 15) stime = std::stod(field);
    if (index == 22) start = std::stod(field);
    if (index == 23) vsize = std::stod(field);
    if (index == 24) {
      rss = std::stod(field);
      break;
    }
  }
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  double boot = 0;
  std::ifstream kernel("/proc/stat");
  std::string line;
  while (std::getline(kernel, line)) {
    if (line.rfind("btime ", 0) == 0) boot = std::stod(line.substr(6));
  }
  stat.cpu_seconds = (utime + stime) / ticks;
  stat.start_seconds = boot + start / ticks;
  stat.virtual_bytes = vsize;
  stat.resident_bytes = rss * page;
  stat.ok = ticks > 0 && boot > 0;
  return stat;
}

uint64_t openDescriptors() {
  uint64_t count = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (const dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') ++count;
    }
    ::closedir(dir);
    if (count > 0) --count;  // the directory's own descriptor
  }
  return count;
}

}  // namespace

std::vector<CollectedFamily> ProcessMetrics::families() const {
  return {{"process_cpu_seconds_total", MetricType::kCounter},
          {"process_start_time_seconds", MetricType::kGauge},
          {"process_virtual_memory_bytes", MetricType::kGauge},
          {"process_resident_memory_bytes", MetricType::kGauge},
          {"process_open_fds", MetricType::kGauge},
          {"process_max_fds", MetricType::kGauge}};
}

void ProcessMetrics::collect(PrometheusText& out) const {
  const ProcStat stat = readStat();
  auto single = [&out](const char* name, MetricType type, const char* help, double value,
                       bool known) {
    out.family(name, help, type);
    if (known) out.sample(name, {}, value);
  };
  single("process_cpu_seconds_total", MetricType::kCounter,
         "User and system CPU time this process spent, in seconds", stat.cpu_seconds, stat.ok);
  single("process_start_time_seconds", MetricType::kGauge,
         "When this process started, seconds since the Unix epoch", stat.start_seconds, stat.ok);
  single("process_virtual_memory_bytes", MetricType::kGauge, "Virtual memory size in bytes",
         stat.virtual_bytes, stat.ok);
  single("process_resident_memory_bytes", MetricType::kGauge, "Resident memory size in bytes",
         stat.resident_bytes, stat.ok);
  single("process_open_fds", MetricType::kGauge, "File descriptors open now",
         static_cast<double>(openDescriptors()), true);
  rlimit limit{};
  const bool limited = ::getrlimit(RLIMIT_NOFILE, &limit) == 0;
  single("process_max_fds", MetricType::kGauge,
         "The most file descriptors this process may open (RLIMIT_NOFILE, soft)",
         static_cast<double>(limit.rlim_cur), limited);
}

}  // namespace busbar::host
