// How many cores the process can keep busy at once, which sizes the HTTP event loops by default:
// its CPU affinity (taskset, a container's cpuset), lowered by a CPU quota of its cgroup (cgroup
// v2 `cpu.max`, v1 `cpu.cfs_quota_us` over `cpu.cfs_period_us`: Kubernetes' CPU limits, systemd's
// CPUQuota=), rounded up. A loop more than that only takes turns on a core with another.
//
// Thread-safe; each call reads the kernel's files again.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace busbar::host {

// The cores the calling thread may run on (its affinity, which the process's threads inherit),
// lowered to cgroupCpuQuotaCores() when that is fewer; at least 1.
size_t usableCores();

// The cores the CPU quotas of the process's cgroup and of its ancestors grant, rounded up: the
// lowest of them. Nothing when none applies (no quota, no cgroup CPU controller mounted, files
// that cannot be read). Reads `proc_self`/mountinfo and `proc_self`/cgroup, and the cgroup files
// under the mount points those name, each prefixed with `root` (for tests: a folder holding a
// fake tree; "" for the machine's own).
std::optional<size_t> cgroupCpuQuotaCores(const std::string& proc_self = "/proc/self",
                                          const std::string& root = "");

}  // namespace busbar::host
