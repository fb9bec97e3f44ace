// PredictionLog: the durable record of scored rows, for monitoring, feedback
// joins with delayed ground truth, and retraining.
//
// Writing. Append() runs on the response path after the answer has been
// handed to the connection. It only moves the event into a bounded in-memory
// queue and never waits: when the queue is full the event's rows are dropped
// and counted (mast_prediction_log_rows_total{outcome="dropped"}), never the
// request. One writer thread takes the whole queue every `flush_interval`,
// samples rows (`sample_rate`), turns each row into one JSON line and appends
// the lines to the current segment with write(2). A killed process (even
// kill -9) therefore loses at most the rows still queued; the segment is
// fsynced every `sync_interval` and when it is closed, which bounds what a
// power loss can take.
//
// What a line holds (one per scored row):
//   {"request_id","time","model","version","endpoint":"predict"|"infer",
//    "row","inputs":{...},"outputs":{...},"latency_ms"}
// Inputs are the declared fields as received (fields the model does not
// declare are never logged). A field the manifest marks `pii` is replaced by
// "hmac-sha256:<32 hex>" (a keyed hash, so rows of one person still join) or
// left out (`pii: drop`): the raw value never reaches the disk. Through the
// Open Inference Protocol, inputs are tensors: a tensor named after a PII
// feature follows that feature's policy, and when the manifest has PII
// features any other tensor may carry them and follows the strictest policy.
//
// Segments. <dir>/<UTC start>-<pid>-<seq>.jsonl (e.g.
// 20261126T234512.123Z-4242-1.jsonl); a new process never appends to an old
// segment. A segment is closed when it reaches `segment_max_bytes` or
// `segment_max_age`; the oldest closed segments are deleted while the total
// exceeds `retention_bytes` or once they are older than `retention_age`.
// Readers (PredictionReader) skip an incomplete last line, so a crash
// mid-write never breaks reading.
//
// Thread-safety: Append() and Flush() are safe from any thread. The
// destructor writes what is queued, closes the segment and joins the writer.
#ifndef MAST_PREDLOG_PREDICTION_LOG_H_
#define MAST_PREDLOG_PREDICTION_LOG_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include <boost/json/value.hpp>

#include "common/status.h"
#include "models/model_version.h"
#include "monitor/metrics.h"

namespace mast {

struct PredictionLogOptions {
  std::string dir;
  // Fraction of rows written, in [0, 1].
  double sample_rate = 1.0;
  uint64_t segment_max_bytes = 64ull << 20;
  std::chrono::seconds segment_max_age{3600};
  uint64_t retention_bytes = 1ull << 30;
  std::chrono::seconds retention_age{7 * 24 * 3600};
  // Queued events above this many (approximate) bytes are dropped.
  size_t queue_max_bytes = 64u << 20;
  // How often the writer appends what is queued.
  std::chrono::milliseconds flush_interval{100};
  // How often the segment is fsynced.
  std::chrono::milliseconds sync_interval{1000};
  // Key of the PII hash (secret; never logged).
  std::string pii_key;
};

// One answered request, as the API handler hands it over.
struct PredictionEvent {
  enum Endpoint { kPredict, kInfer } endpoint = kPredict;
  std::string request_id;
  std::chrono::system_clock::time_point time;
  std::shared_ptr<const ModelVersion> model;
  // kPredict: the request body (one object or an array of objects), and
  //   {"prediction": [...], "probabilities": [...]} (one entry per row).
  // kInfer: the request's "inputs" array and the response's "outputs" array
  //   (OIP tensors; rows along the first dimension).
  boost::json::value inputs;
  boost::json::value outputs;
  int64_t rows = 0;
  double latency_ms = 0;
  // Approximate memory held while queued (e.g. the request body's size).
  size_t bytes = 0;
};

class PredictionLog {
 public:
  // Creates `options.dir` if needed and starts the writer. Registers
  // mast_prediction_log_* metrics in `metrics`. Errors: kInvalidArgument for
  // a bad option, kUnavailable if the directory cannot be created.
  static StatusOr<std::unique_ptr<PredictionLog>> Open(PredictionLogOptions options,
                                                       MetricsRegistry* metrics);
  ~PredictionLog();
  PredictionLog(const PredictionLog&) = delete;
  PredictionLog& operator=(const PredictionLog&) = delete;

  // Queues `event` (never blocks on disk; drops and counts when full).
  void Append(PredictionEvent event);
  // Waits until everything appended before the call is written.
  void Flush();

  const PredictionLogOptions& options() const { return options_; }

  // One row of `event` as its log line (without the newline); exposed for
  // tests. `row` < event.rows.
  std::string FormatRow(const PredictionEvent& event, int64_t row) const;

 private:
  PredictionLog(PredictionLogOptions options, MetricsRegistry* metrics);
  void WriterLoop();
  void WriteBatch(std::deque<PredictionEvent>* batch);
  // Appends `data` to the current segment, opening or rotating it first.
  Status WriteToSegment(const std::string& data);
  Status OpenSegment();
  void CloseSegment();
  void SyncIfDue(bool force);
  // Deletes the oldest closed segments beyond the retention limits.
  void ApplyRetention();

  const PredictionLogOptions options_;

  std::mutex mu_;
  std::condition_variable wake_;     // writer: flush asked or stopping
  std::condition_variable written_;  // Flush(): a batch was written
  std::deque<PredictionEvent> queue_;  // GUARDED_BY(mu_)
  size_t queue_bytes_ = 0;             // GUARDED_BY(mu_)
  uint64_t appended_ = 0;              // GUARDED_BY(mu_) events queued so far
  uint64_t done_ = 0;                  // GUARDED_BY(mu_) events written (or dropped)
  int flush_waiters_ = 0;              // GUARDED_BY(mu_)
  bool stopping_ = false;              // GUARDED_BY(mu_)

  // Writer thread only.
  int fd_ = -1;
  std::string segment_path_;
  uint64_t segment_bytes_ = 0;
  std::chrono::steady_clock::time_point segment_opened_;
  std::chrono::steady_clock::time_point last_sync_;
  std::chrono::steady_clock::time_point last_retention_;
  bool unsynced_ = false;
  std::mt19937_64 rng_;
  std::chrono::steady_clock::time_point last_error_log_;

  Counter* rows_written_;
  Counter* rows_dropped_;
  Counter* rows_sampled_out_;
  Counter* rows_failed_;
  Counter* bytes_written_;
  Gauge* queue_bytes_gauge_;
  Gauge* segments_gauge_;

  std::thread writer_;
};

// The PII hash key stored at `path`, created there (32 random bytes, hex,
// mode 0600) if the file does not exist. Errors: kUnavailable naming the
// file if it cannot be read or created.
StatusOr<std::string> LoadOrCreatePiiKey(const std::string& path);

}  // namespace mast

#endif  // MAST_PREDLOG_PREDICTION_LOG_H_
