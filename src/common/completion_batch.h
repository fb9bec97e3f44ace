// CompletionBatch: coalesces the hand-backs of work completed in bulk.
//
// Code that completes many requests at once (the batcher running one batch
// for 32 callers) would wake each caller's I/O thread once per request. While
// a CompletionBatch lives on a thread, Defer() instead collects the
// hand-backs per target (an I/O thread's context); when the scope ends, each
// target's Flush runs once with all of its work, in order: one wake-up per
// thread per batch.
//
// Thread-safety: a scope belongs to the thread that made it; scopes nest
// (inner ones join the outermost, which flushes).
#ifndef MAST_COMMON_COMPLETION_BATCH_H_
#define MAST_COMMON_COMPLETION_BATCH_H_

#include <functional>
#include <utility>
#include <vector>

namespace mast {

class CompletionBatch {
 public:
  using Work = std::vector<std::function<void()>>;
  // Hands `work` to `target` (e.g. posts it to an io_context).
  using Flush = void (*)(void* target, Work work);

  CompletionBatch() : outer_(current_ == nullptr) {
    if (outer_) current_ = this;
  }
  ~CompletionBatch() {
    if (!outer_) return;
    current_ = nullptr;
    for (auto& t : targets_) t.flush(t.target, std::move(t.work));
  }
  CompletionBatch(const CompletionBatch&) = delete;
  CompletionBatch& operator=(const CompletionBatch&) = delete;

  // Queues `fn` for `target` if a scope is open on this thread and returns
  // true; otherwise returns false and leaves `fn` to the caller.
  static bool Defer(void* target, Flush flush, std::function<void()>& fn) {
    CompletionBatch* batch = current_;
    if (batch == nullptr) return false;
    for (auto& t : batch->targets_) {
      if (t.target == target) {
        t.work.push_back(std::move(fn));
        return true;
      }
    }
    batch->targets_.push_back({target, flush, {}});
    batch->targets_.back().work.push_back(std::move(fn));
    return true;
  }

 private:
  struct Target {
    void* target;
    Flush flush;
    Work work;
  };
  static inline thread_local CompletionBatch* current_ = nullptr;
  const bool outer_;
  std::vector<Target> targets_;
};

}  // namespace mast

#endif  // MAST_COMMON_COMPLETION_BATCH_H_
