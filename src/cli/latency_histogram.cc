#include "cli/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace mast {

namespace {

// Sub-buckets per power of two above the exact range.
constexpr int kSubBits = 7;
constexpr int64_t kSubBuckets = int64_t{1} << kSubBits;  // 128
// Values below this are their own bucket.
constexpr int64_t kExactBelow = 2 * kSubBuckets;  // 256
// The largest int64 has its top bit at 62: shift 55, bucket 56 * 128 + 127.
constexpr int kBuckets = (62 - kSubBits + 1) * kSubBuckets + kSubBuckets;

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

int LatencyHistogram::BucketOf(int64_t nanos) {
  if (nanos < kExactBelow) return static_cast<int>(std::max<int64_t>(nanos, 0));
  const int msb = 63 - std::countl_zero(static_cast<uint64_t>(nanos));  // >= 8
  const int shift = msb - kSubBits;  // nanos >> shift is in [128, 256)
  return static_cast<int>((shift + 1) * kSubBuckets + ((nanos >> shift) - kSubBuckets));
}

int64_t LatencyHistogram::BucketLow(int bucket) {
  if (bucket < kExactBelow) return bucket;
  const int shift = bucket / kSubBuckets - 1;
  const int64_t sub = bucket % kSubBuckets + kSubBuckets;
  return sub << shift;
}

int64_t LatencyHistogram::BucketHigh(int bucket) {
  if (bucket < kExactBelow) return bucket;
  const int shift = bucket / kSubBuckets - 1;
  return BucketLow(bucket) + ((int64_t{1} << shift) - 1);
}

void LatencyHistogram::Record(int64_t nanos) {
  nanos = std::max<int64_t>(nanos, 0);
  ++counts_[BucketOf(nanos)];
  if (count_ == 0 || nanos < min_) min_ = nanos;
  max_ = std::max(max_, nanos);
  sum_ += nanos;
  ++count_;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
  count_ += other.count_;
}

int64_t LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  if (q <= 0) return min_;
  if (q >= 1) return max_;
  const int64_t rank = std::clamp<int64_t>(
      static_cast<int64_t>(std::ceil(q * static_cast<double>(count_))), 1, count_);
  int64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) {
      const int64_t low = BucketLow(b);
      const int64_t mid = low + (BucketHigh(b) - low) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;  // unreachable: the counts add up to count_
}

}  // namespace mast
