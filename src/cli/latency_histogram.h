// LatencyHistogram: request latencies in nanoseconds with bounded relative
// error, for `mast perf` (HdrHistogram's log-linear layout, simplified).
//
// Values below 256 ns are counted exactly; above, each power of two is cut
// into 128 equal buckets, so a bucket is at most 1/128 of its lower bound
// wide. A percentile is reported as the midpoint of its bucket, clamped to
// the exact minimum and maximum recorded: the error is below 0.4 %, and
// Percentile() never decreases as the quantile grows and never exceeds
// max(). Memory is fixed (about 60 KB) whatever the number of samples.
//
// Thread-safety: none; one histogram per thread, merged with Merge().
#ifndef MAST_CLI_LATENCY_HISTOGRAM_H_
#define MAST_CLI_LATENCY_HISTOGRAM_H_

#include <cstdint>
#include <vector>

namespace mast {

class LatencyHistogram {
 public:
  LatencyHistogram();

  // Counts one latency; negative values count as 0.
  void Record(int64_t nanos);
  // Adds every sample of `other`.
  void Merge(const LatencyHistogram& other);

  int64_t count() const { return count_; }
  // 0 when empty.
  int64_t min() const { return count_ == 0 ? 0 : min_; }
  int64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / count_; }

  // The latency that a fraction `q` (0..1) of the samples do not exceed
  // (nearest rank: the ceil(q * count)-th smallest sample, approximated as
  // above); 0 when empty. q <= 0 gives min(), q >= 1 gives max().
  int64_t Percentile(double q) const;

  // Bucket layout, exposed for tests: the index of `nanos`, and the smallest
  // and largest value of a bucket.
  static int BucketOf(int64_t nanos);
  static int64_t BucketLow(int bucket);
  static int64_t BucketHigh(int bucket);

 private:
  std::vector<int64_t> counts_;
  int64_t count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  int64_t sum_ = 0;  // of nanoseconds: overflows only after ~292 years of latency
};

}  // namespace mast

#endif  // MAST_CLI_LATENCY_HISTOGRAM_H_
