// WorkerPool: a fixed set of threads for blocking work that must stay off the
// I/O threads (database round trips, disk writes, model loads).
//
// Thread-safety: Post() is safe from any thread. The destructor stops taking
// work, finishes what is queued and joins the threads.
#ifndef MAST_COMMON_WORKER_POOL_H_
#define MAST_COMMON_WORKER_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mast {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; it runs on one of the pool's threads.
  void Post(std::function<void()> task);

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                     // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace mast

#endif  // MAST_COMMON_WORKER_POOL_H_
