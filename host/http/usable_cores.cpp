#include "http/usable_cores.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace busbar::host {
namespace {

size_t affinityCores() {
  // Sets sized for any machine: CPU_SETSIZE (1024) is too small on the largest ones, where
  // sched_getaffinity answers EINVAL.
  for (size_t cpus = 1024; cpus <= 65536; cpus *= 2) {
    cpu_set_t* allowed = CPU_ALLOC(cpus);
    if (allowed == nullptr) break;
    const size_t size = CPU_ALLOC_SIZE(cpus);
    CPU_ZERO_S(size, allowed);
    const int result = ::sched_getaffinity(0, size, allowed);
    const int error = errno;
    const int count = result == 0 ? CPU_COUNT_S(size, allowed) : 0;
    CPU_FREE(allowed);
    if (count > 0) return static_cast<size_t>(count);
    if (result != 0 && error != EINVAL) break;
  }
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, separator)) parts.push_back(part);
  return parts;
}

bool hasToken(const std::string& list, const std::string& token) {
  const auto tokens = split(list, ',');
  return std::find(tokens.begin(), tokens.end(), token) != tokens.end();
}

std::optional<std::string> firstLine(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

// A cgroup hierarchy that may hold CPU quotas: where it is mounted, and the process's folder in
// it.
struct Hierarchy {
  std::string mount_point;  // with the test's root prefixed
  std::string folder;       // mount_point and the process's cgroup below the mount's root
  bool v2 = false;
};

// cgroup v2: "MAX PERIOD" ("max" for none); v1: the quota ("-1" for none) over the period.
std::optional<size_t> quotaIn(const std::string& folder, bool v2) {
  int64_t quota = 0;
  int64_t period = 0;
  if (v2) {
    auto line = firstLine(folder + "/cpu.max");
    if (!line) return std::nullopt;
    std::istringstream in(*line);
    std::string max;
    if (!(in >> max >> period) || max == "max") return std::nullopt;
    try {
      quota = std::stoll(max);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  } else {
    auto quota_line = firstLine(folder + "/cpu.cfs_quota_us");
    auto period_line = firstLine(folder + "/cpu.cfs_period_us");
    if (!quota_line || !period_line) return std::nullopt;
    try {
      quota = std::stoll(*quota_line);
      period = std::stoll(*period_line);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (quota <= 0 || period <= 0) return std::nullopt;
  return static_cast<size_t>((quota + period - 1) / period);
}

std::vector<Hierarchy> cpuHierarchies(const std::string& proc_self, const std::string& root) {
  // /proc/self/cgroup: "0::/path" (v2), "N:cpu,cpuacct:/path" (v1).
  std::string v2_path;
  std::string v1_path;
  {
    std::ifstream in(proc_self + "/cgroup");
    std::string line;
    while (std::getline(in, line)) {
      const auto first = line.find(':');
      const auto second = line.find(':', first + 1);
      if (first == std::string::npos || second == std::string::npos) continue;
      const std::string controllers = line.substr(first + 1, second - first - 1);
      const std::string path = line.substr(second + 1);
      if (line.compare(0, first, "0") == 0 && controllers.empty()) v2_path = path;
      if (hasToken(controllers, "cpu")) v1_path = path;
    }
  }
  // /proc/self/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [TAGS...] - TYPE SOURCE
  // SUPER_OPTIONS".
  std::vector<Hierarchy> found;
  std::ifstream in(proc_self + "/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto fields = split(line, ' ');
    const auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || dash + 3 > fields.end()) continue;
    const std::string& type = *(dash + 1);
    const std::string& super_options = *(dash + 3);
    const bool v2 = type == "cgroup2";
    if (!v2 && !(type == "cgroup" && hasToken(super_options, "cpu"))) continue;
    const std::string& path = v2 ? v2_path : v1_path;
    if (path.empty()) continue;
    // The process's cgroup below the mount's root (a container sees its own cgroup as "/").
    const std::string& mount_root = fields[3];
    std::string below = path;
    if (mount_root != "/" && below.compare(0, mount_root.size(), mount_root) == 0) {
      below = below.substr(mount_root.size());
    }
    if (!below.empty() && below.back() == '/') below.pop_back();
    Hierarchy hierarchy;
    hierarchy.mount_point = root + fields[4];
    hierarchy.folder = hierarchy.mount_point + below;
    hierarchy.v2 = v2;
    found.push_back(hierarchy);
  }
  return found;
}

}  // namespace

std::optional<size_t> cgroupCpuQuotaCores(const std::string& proc_self, const std::string& root) {
  std::optional<size_t> lowest;
  for (const auto& hierarchy : cpuHierarchies(proc_self, root)) {
    // The process's own cgroup, then each parent up to the mount point: a parent's quota binds
    // its children as well.
    std::string folder = hierarchy.folder;
    for (;;) {
      if (auto cores = quotaIn(folder, hierarchy.v2)) {
        lowest = lowest ? std::min(*lowest, *cores) : *cores;
      }
      if (folder.size() <= hierarchy.mount_point.size()) break;
      folder = folder.substr(0, folder.rfind('/'));
      if (folder.size() < hierarchy.mount_point.size()) break;
    }
  }
  return lowest;
}

size_t usableCores() {
  const size_t cores = affinityCores();
  const auto quota = cgroupCpuQuotaCores();
  return std::max<size_t>(1, quota ? std::min(cores, *quota) : cores);
}

}  // namespace busbar::host
