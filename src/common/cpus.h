// The CPUs this process may use: the CPUs it may run on (its affinity: a
// container's cpuset, `taskset`) and the CPU time its cgroup allows (a
// Kubernetes CPU limit is a CFS quota, not a cpuset). mast sizes its thread
// pools by these, not by the machine's CPU count, and pins its I/O threads
// one per CPU when they own the CPUs (HttpServerOptions::pin_io_threads).
//
// Thread-safety: UsableCpus() reads the calling thread's mask (a thread
// pinned before asks for its own CPU only); PinCurrentThread() changes only
// the calling thread's, and threads it starts afterwards inherit it.
// CgroupCpuQuota() only reads files.
#ifndef MAST_COMMON_CPUS_H_
#define MAST_COMMON_CPUS_H_

#include <optional>
#include <string>
#include <vector>

namespace mast {

// The CPUs the calling thread may run on, ascending; the machine's online
// CPUs (0..n-1) if the kernel does not say.
std::vector<int> UsableCpus();

// Restricts the calling thread to `cpu`. False (and no change) if the kernel
// refuses, e.g. a CPU outside the process's cpuset.
bool PinCurrentThread(int cpu);

// How many CPUs' worth of time the process's cgroup may use (e.g. 1.5):
// cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us` over `cpu.cfs_period_us`.
// nullopt without a quota, or if it cannot be read.
std::optional<double> CgroupCpuQuota();

// The same, given where the cgroup file systems are mounted (`root`, e.g.
// /sys/fs/cgroup) and the text of /proc/self/cgroup (for tests).
std::optional<double> CgroupCpuQuota(const std::string& root, const std::string& self_cgroup);

}  // namespace mast

#endif  // MAST_COMMON_CPUS_H_
