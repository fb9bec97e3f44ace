// CPU affinity: the CPUs this process may run on, and pinning a thread to
// one of them. mast sizes its thread pools by the CPUs it may use (a
// container's cpuset, `taskset`), not by the machine's count, and pins its
// I/O threads one per CPU when they own the CPUs (HttpServerOptions::
// pin_io_threads).
//
// Thread-safety: UsableCpus() reads the calling thread's mask (a thread
// pinned before asks for its own CPU only); PinCurrentThread() changes only
// the calling thread's, and threads it starts afterwards inherit it.
#ifndef MAST_COMMON_CPU_AFFINITY_H_
#define MAST_COMMON_CPU_AFFINITY_H_

#include <vector>

namespace mast {

// The CPUs the calling thread may run on, ascending; the machine's online
// CPUs (0..n-1) if the kernel does not say.
std::vector<int> UsableCpus();

// Restricts the calling thread to `cpu`. False (and no change) if the kernel
// refuses, e.g. a CPU outside the process's cpuset.
bool PinCurrentThread(int cpu);

}  // namespace mast

#endif  // MAST_COMMON_CPU_AFFINITY_H_
