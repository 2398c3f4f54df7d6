#include "http/usable_cores.h"

#include <sched.h>

#include <fstream>
#include <thread>

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>

#include "http/http_server.h"

namespace busbar::host {
namespace {

TEST(UsableCoresTest, OneLoopPerCoreTheProcessMayRunOn) {
  // A thread of its own, pinned to one core as taskset or a container's cpuset would pin the
  // process: the loops follow the cores it may use, not the machine's.
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  ASSERT_EQ(::sched_getaffinity(0, sizeof allowed, &allowed), 0);
  int first = 0;
  while (!CPU_ISSET(first, &allowed)) ++first;  // the first core this test may use
  std::thread pinned([first] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    ASSERT_EQ(::pthread_setaffinity_np(::pthread_self(), sizeof one, &one), 0);
    EXPECT_EQ(usableCores(), 1u);
    EXPECT_EQ(httpLoopCount(0), 1u);
    EXPECT_EQ(httpLoopCount(3), 3u);  // asked for: as many as asked
  });
  pinned.join();
  const auto quota = cgroupCpuQuotaCores();
  if (CPU_COUNT(&allowed) > 1 && (!quota || *quota > 1)) {
    EXPECT_GT(httpLoopCount(0), 1u);  // this thread is not pinned
  }
}

// A fake /proc/self and cgroup tree in a folder of its own.
class CgroupTree : public ::testing::Test {
 protected:
  void TearDown() override { Poco::File(root_).remove(true); }

  void write(const std::string& path, const std::string& text) {
    const std::string file = root_ + path;
    Poco::File(file.substr(0, file.rfind('/'))).createDirectories();
    std::ofstream(file) << text;
  }
  std::optional<size_t> quota() { return cgroupCpuQuotaCores(root_ + "/proc/self", root_); }

  std::string root_ = Poco::TemporaryFile::tempName();
};

TEST_F(CgroupTree, CgroupV2TakesTheLowestQuotaOfTheProcesssCgroupAndItsParentsRoundedUp) {
  write("/proc/self/mountinfo",
        "25 30 0:22 / /proc rw - proc proc rw\n"
        "35 30 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n");
  write("/proc/self/cgroup", "0::/kubepods/pod1/app\n");
  write("/sys/fs/cgroup/kubepods/pod1/app/cpu.max", "max 100000\n");
  write("/sys/fs/cgroup/kubepods/pod1/cpu.max", "250000 100000\n");  // 2.5 cores: 3 loops
  write("/sys/fs/cgroup/kubepods/cpu.max", "800000 100000\n");
  EXPECT_EQ(quota(), 3u);
  write("/sys/fs/cgroup/kubepods/cpu.max", "50000 100000\n");  // half a core: 1
  EXPECT_EQ(quota(), 1u);
}

TEST_F(CgroupTree, CgroupV2WithoutAQuotaGrantsNothingToLower) {
  write("/proc/self/mountinfo", "35 30 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  write("/proc/self/cgroup", "0::/\n");
  write("/sys/fs/cgroup/cpu.max", "max 100000\n");
  EXPECT_EQ(quota(), std::nullopt);
}

TEST_F(CgroupTree, CgroupV1ReadsTheCpuControllersQuotaBelowItsMountsRoot) {
  // A container: its cgroup is the mount's root, as the kernel shows it inside a cgroup
  // namespace or a bind mount of the container's own folder.
  write("/proc/self/mountinfo",
        "40 30 0:35 /docker/abc /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "41 30 0:36 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n");
  write("/proc/self/cgroup", "4:cpuset:/\n3:cpu,cpuacct:/docker/abc\n0::/\n");
  write("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "200000\n");
  write("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(quota(), 2u);
  write("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
  EXPECT_EQ(quota(), std::nullopt);
}

TEST_F(CgroupTree, NoCpuControllerOrUnreadableFilesGrantNothingToLower) {
  write("/proc/self/mountinfo",
        "41 30 0:36 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n");
  write("/proc/self/cgroup", "4:cpuset:/\n");
  EXPECT_EQ(quota(), std::nullopt);
  write("/proc/self/mountinfo", "35 30 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  write("/proc/self/cgroup", "0::/gone\n");
  EXPECT_EQ(quota(), std::nullopt);  // the folder is not there
  write("/sys/fs/cgroup/gone/cpu.max", "many 100000\n");
  EXPECT_EQ(quota(), std::nullopt);  // nor a number
}

}  // namespace
}  // namespace busbar::host
