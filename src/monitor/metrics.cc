#include "monitor/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace mast {

namespace {

// The HELP and TYPE lines that open every metric's text.
void AppendMetricHeader(std::string* out, std::string_view name, std::string_view type,
                        std::string_view help) {
  out->append("# HELP ").append(name).append(" ").append(help);
  out->append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
}

}  // namespace

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds),
      buckets_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = 0;
  const size_t n = bounds_->size();
  while (i < n && v > (*bounds_)[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> out(bounds_->size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

uint64_t Histogram::count() const { return CumulativeCounts().back(); }

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> kBuckets = {
      0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
      0.01,     0.025,   0.05,   0.1,     0.25,   0.5,   1.0,    2.5,
      5.0,      10.0};
  return kBuckets;
}

void AppendScalarMetric(std::string* out, std::string_view name, std::string_view type,
                        std::string_view help, double value) {
  AppendMetricHeader(out, name, type, help);
  out->append(name).append(" ").append(FormatMetricValue(value)).append("\n");
}

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

namespace {

void AppendEscaped(std::string* out, const std::string& value) {
  for (char c : value) {
    if (c == '\\') out->append("\\\\");
    else if (c == '"') out->append("\\\"");
    else if (c == '\n') out->append("\\n");
    else out->push_back(c);
  }
}

std::string_view TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string FamilyBase::LabelBlock(const std::vector<std::string>& values,
                                   const std::string& extra) const {
  if (label_names_.empty() && extra.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < label_names_.size(); ++i) {
    if (i) out.push_back(',');
    out += label_names_[i];
    out += "=\"";
    AppendEscaped(&out, values[i]);
    out.push_back('"');
  }
  if (!extra.empty()) {
    if (!label_names_.empty()) out.push_back(',');
    out += extra;
  }
  out.push_back('}');
  return out;
}

void FamilyBase::RenderHeader(std::string* out) const {
  AppendMetricHeader(out, name_, TypeName(type_), help_);
}

template <typename T>
T* Family<T>::WithLabels(const std::vector<std::string>& values) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = children_.find(values);
  if (it != children_.end()) return it->second.get();
  std::unique_ptr<T> child;
  if constexpr (std::is_same_v<T, Histogram>) {
    child = std::make_unique<Histogram>(bounds_);
  } else {
    child = std::make_unique<T>();
  }
  T* raw = child.get();
  children_.emplace(values, std::move(child));
  return raw;
}

template <typename T>
void Family<T>::Render(std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (children_.empty() && !label_names_.empty()) return;
  RenderHeader(out);
  if constexpr (std::is_same_v<T, Histogram>) {
    for (const auto& [values, h] : children_) {
      auto counts = h->CumulativeCounts();
      const auto& bounds = h->bounds();
      for (size_t i = 0; i < counts.size(); ++i) {
        std::string le = i < bounds.size() ? FormatMetricValue(bounds[i]) : "+Inf";
        *out += name_ + "_bucket" + LabelBlock(values, "le=\"" + le + "\"") + " " +
                std::to_string(counts[i]) + "\n";
      }
      *out += name_ + "_sum" + LabelBlock(values) + " " +
              FormatMetricValue(h->sum()) + "\n";
      *out += name_ + "_count" + LabelBlock(values) + " " +
              std::to_string(counts.back()) + "\n";
    }
  } else {
    if (children_.empty()) {
      *out += name_ + " 0\n";
      return;
    }
    for (const auto& [values, c] : children_) {
      *out += name_ + LabelBlock(values) + " " + FormatMetricValue(c->value()) + "\n";
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Family<Counter>* MetricsRegistry::AddCounter(std::string name, std::string help,
                                             std::vector<std::string> labels) {
  auto f = std::make_unique<Family<Counter>>(std::move(name), std::move(help),
                                             MetricType::kCounter,
                                             std::move(labels));
  auto* raw = f.get();
  std::lock_guard<std::mutex> lock(mu_);
  families_.push_back(std::move(f));
  return raw;
}

Family<Gauge>* MetricsRegistry::AddGauge(std::string name, std::string help,
                                         std::vector<std::string> labels) {
  auto f = std::make_unique<Family<Gauge>>(std::move(name), std::move(help),
                                           MetricType::kGauge, std::move(labels));
  auto* raw = f.get();
  std::lock_guard<std::mutex> lock(mu_);
  families_.push_back(std::move(f));
  return raw;
}

Family<Histogram>* MetricsRegistry::AddHistogram(
    std::string name, std::string help, std::vector<std::string> labels,
    const std::vector<double>* bounds) {
  auto f = std::make_unique<Family<Histogram>>(
      std::move(name), std::move(help), MetricType::kHistogram,
      std::move(labels), bounds);
  auto* raw = f.get();
  std::lock_guard<std::mutex> lock(mu_);
  families_.push_back(std::move(f));
  return raw;
}

void MetricsRegistry::AddCollector(std::function<void(std::string*)> collect) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collect));
}

std::string MetricsRegistry::Render() const {
  std::string out;
  out.reserve(8192);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : families_) f->Render(&out);
  for (const auto& c : collectors_) c(&out);
  return out;
}

namespace {

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double v = 0;
      in >> v;
      return v;
    }
    in.ignore(4096, '\n');
  }
  return 0;
}

}  // namespace

void RenderProcessMetrics(std::string* out) {
  static const double kTicks = static_cast<double>(sysconf(_SC_CLK_TCK));
  static const double kPage = static_cast<double>(sysconf(_SC_PAGESIZE));
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)),
                   std::istreambuf_iterator<char>());
  // Fields after the parenthesised command name, which may contain spaces.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return;
  std::istringstream fields(stat.substr(close + 2));
  std::vector<std::string> f;
  std::string tok;
  while (fields >> tok) f.push_back(tok);
  // f[0] is field 3 (state); utime=14, stime=15, starttime=22, vsize=23,
  // rss=24 in proc(5) numbering.
  auto field = [&](int n) { return std::stod(f.at(static_cast<size_t>(n - 3))); };
  const double cpu = (field(14) + field(15)) / kTicks;
  const double start = BootTimeSeconds() + field(22) / kTicks;
  const double vsize = field(23);
  const double rss = field(24) * kPage;

  int fds = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++fds;
    closedir(d);
    fds -= 3;  // ".", ".." and the descriptor of this listing
  }
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);

  AppendScalarMetric(out, "process_cpu_seconds_total", "counter",
                     "Total user and system CPU time spent in seconds.", cpu);
  AppendScalarMetric(out, "process_resident_memory_bytes", "gauge",
                     "Resident memory size in bytes.", rss);
  AppendScalarMetric(out, "process_virtual_memory_bytes", "gauge",
                     "Virtual memory size in bytes.", vsize);
  AppendScalarMetric(out, "process_open_fds", "gauge", "Number of open file descriptors.", fds);
  AppendScalarMetric(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
                     static_cast<double>(lim.rlim_cur));
  AppendScalarMetric(out, "process_start_time_seconds", "gauge",
                     "Start time of the process since unix epoch in seconds.", start);
}

}  // namespace mast
