#include "common/cpus.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

namespace mast {
namespace {

namespace fs = std::filesystem;

// A fake cgroup mount: files written under a temporary root.
class CgroupCpuQuotaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("mast-cgroup-" + std::to_string(std::random_device{}()));
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& relative, const std::string& text) {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << text << "\n";
  }
  std::optional<double> Quota(const std::string& self_cgroup) {
    return CgroupCpuQuota(root_.string(), self_cgroup);
  }
  fs::path root_;
};

TEST_F(CgroupCpuQuotaTest, V2QuotaOverPeriod) {
  Write("cpu.max", "200000 100000");
  EXPECT_EQ(Quota("0::/\n"), 2.0);
  Write("cpu.max", "150000 100000");
  EXPECT_EQ(Quota("0::/\n"), 1.5);
  Write("cpu.max", "10000 100000");
  EXPECT_EQ(Quota("0::/\n"), 0.1);
}

TEST_F(CgroupCpuQuotaTest, V2WithoutALimitOrUnreadableIsNone) {
  EXPECT_EQ(Quota("0::/\n"), std::nullopt);  // no cpu.max at all
  Write("cpu.max", "max 100000");
  EXPECT_EQ(Quota("0::/\n"), std::nullopt);
  Write("cpu.max", "lots 100000");
  EXPECT_EQ(Quota("0::/\n"), std::nullopt);
  Write("cpu.max", "200000 0");
  EXPECT_EQ(Quota("0::/\n"), std::nullopt);
}

TEST_F(CgroupCpuQuotaTest, V2ReadsTheProcessOwnGroupFirst) {
  Write("cpu.max", "max 100000");
  Write("kubepods/pod1/c1/cpu.max", "300000 100000");
  EXPECT_EQ(Quota("0::/kubepods/pod1/c1\n"), 3.0);
  // Inside a cgroup namespace the group is the mount's root.
  EXPECT_EQ(Quota("0::/elsewhere\n"), std::nullopt);
}

TEST_F(CgroupCpuQuotaTest, V1QuotaOverPeriod) {
  Write("cpu,cpuacct/cpu.cfs_quota_us", "50000");
  Write("cpu,cpuacct/cpu.cfs_period_us", "100000");
  EXPECT_EQ(Quota("5:memory:/\n4:cpu,cpuacct:/\n0::/\n"), 0.5);
  Write("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "400000");
  Write("cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000");
  EXPECT_EQ(Quota("4:cpu,cpuacct:/docker/abc\n"), 4.0);
}

TEST_F(CgroupCpuQuotaTest, V1UnlimitedIsNone) {
  Write("cpu/cpu.cfs_quota_us", "-1");
  Write("cpu/cpu.cfs_period_us", "100000");
  EXPECT_EQ(Quota("2:cpuacct:/\n1:cpu:/\n0::/\n"), std::nullopt);
  // A controller list that only contains "cpu" as part of a name is not cpu.
  EXPECT_EQ(Quota("3:cpuset:/\n"), std::nullopt);
}

TEST(UsableCpusTest, ListsTheCpusOfTheAffinityMaskInOrder) {
  const std::vector<int> cpus = UsableCpus();
  ASSERT_FALSE(cpus.empty());
  EXPECT_TRUE(std::is_sorted(cpus.begin(), cpus.end()));
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  EXPECT_EQ(static_cast<int>(cpus.size()), CPU_COUNT(&set));
  for (int cpu : cpus) EXPECT_TRUE(CPU_ISSET(cpu, &set)) << cpu;
}

}  // namespace
}  // namespace mast
