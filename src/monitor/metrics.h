// Metrics: a small Prometheus metrics registry (counters, gauges, histograms
// with labels) and its text exposition format.
//
// Each subsystem declares its metric families once (see ServerMetrics) on a
// MetricsRegistry that is passed in, never global, so tests can assert exact
// values. A family hands out children per label values; a child pointer stays
// valid for the registry's lifetime, so hot paths look it up once and keep it.
//
// Thread-safety: all operations are safe from any thread. Updating a child is
// lock-free (atomics); looking up a child by label values takes the family's
// mutex; rendering takes each family's mutex briefly.
#ifndef MAST_MONITOR_METRICS_H_
#define MAST_MONITOR_METRICS_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mast {

class Counter {
 public:
  void Increment(double by = 1.0) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `bounds`: ascending upper bounds; +Inf is implicit.
  explicit Histogram(const std::vector<double>* bounds);
  void Observe(double v);
  // Cumulative count per bound (last entry is +Inf), sum and total count.
  std::vector<uint64_t> CumulativeCounts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t count() const;
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_->size() + 1
  std::atomic<double> sum_{0.0};
};

// Latency buckets in seconds, from 25 µs to 10 s.
const std::vector<double>& LatencyBuckets();

enum class MetricType { kCounter, kGauge, kHistogram };

// One metric name with a fixed list of label names.
template <typename T>
class Family;

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names)
      : name_(std::move(name)),
        help_(std::move(help)),
        type_(type),
        label_names_(std::move(label_names)) {}
  virtual ~FamilyBase() = default;
  // Appends this family in Prometheus text format to `out`.
  virtual void Render(std::string* out) const = 0;
  const std::string& name() const { return name_; }

 protected:
  // `name{a="x",b="y"}` label block (empty if no labels), `extra` appended.
  std::string LabelBlock(const std::vector<std::string>& values,
                         const std::string& extra = "") const;
  void RenderHeader(std::string* out) const;

  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<std::string> label_names_;
  mutable std::mutex mu_;
};

template <typename T>
class Family final : public FamilyBase {
 public:
  using FamilyBase::FamilyBase;
  Family(std::string name, std::string help, MetricType type,
         std::vector<std::string> label_names,
         const std::vector<double>* bounds)
      : FamilyBase(std::move(name), std::move(help), type,
                   std::move(label_names)),
        bounds_(bounds) {}

  // The child for `values` (one per label name), created on first use.
  T* WithLabels(const std::vector<std::string>& values);
  void Render(std::string* out) const override;

 private:
  const std::vector<double>* bounds_ = nullptr;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;  // GUARDED_BY(mu_)
};

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  Family<Counter>* AddCounter(std::string name, std::string help,
                              std::vector<std::string> labels = {});
  Family<Gauge>* AddGauge(std::string name, std::string help,
                          std::vector<std::string> labels = {});
  Family<Histogram>* AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> labels,
                                  const std::vector<double>* bounds);
  // Adds text produced at scrape time (e.g. process_* metrics); `collect`
  // must append complete families in text format.
  void AddCollector(std::function<void(std::string*)> collect);

  // The whole registry in Prometheus text exposition format 0.0.4.
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;        // GUARDED_BY(mu_)
  std::vector<std::function<void(std::string*)>> collectors_;  // GUARDED_BY(mu_)
};

// Appends the standard process_* metrics read from /proc/self: CPU seconds,
// resident and virtual memory, open and max file descriptors, start time.
void RenderProcessMetrics(std::string* out);

// Formats a sample value the way Prometheus expects (+Inf, NaN, shortest
// round-trip decimal).
std::string FormatMetricValue(double v);

// Appends a metric of one unlabelled sample, with its HELP and TYPE lines
// (`type`: "counter" or "gauge"), for values read at scrape time.
void AppendScalarMetric(std::string* out, std::string_view name, std::string_view type,
                        std::string_view help, double value);

}  // namespace mast

#endif  // MAST_MONITOR_METRICS_H_
