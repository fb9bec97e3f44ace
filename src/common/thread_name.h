// SetThreadName: names the calling thread (as `top -H`, `ps -L`, perf and
// debuggers show it), e.g. "mast-io-1". Linux keeps 15 bytes; longer names
// are cut. Meant for threads mast starts itself; the main thread keeps the
// process name.
//
// Thread-safety: affects only the calling thread.
#ifndef MAST_COMMON_THREAD_NAME_H_
#define MAST_COMMON_THREAD_NAME_H_

#include <pthread.h>

#include <string>

namespace mast {

inline void SetThreadName(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace mast

#endif  // MAST_COMMON_THREAD_NAME_H_
