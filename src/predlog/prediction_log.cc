#include "predlog/prediction_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <vector>

#include <boost/json.hpp>
#include <openssl/rand.h>

#include "common/digest.h"
#include "common/json_writer.h"
#include "common/logging.h"
#include "common/thread_name.h"

namespace mast {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// Which declared fields an event's rows log, and how.
struct FieldPlan {
  std::vector<std::pair<std::string, PiiPolicy>> fields;  // kPredict
  // kInfer: a tensor not named after a feature follows this policy.
  PiiPolicy other_tensors = PiiPolicy::kNone;
};

PiiPolicy Stricter(PiiPolicy a, PiiPolicy b) {
  if (a == PiiPolicy::kDrop || b == PiiPolicy::kDrop) return PiiPolicy::kDrop;
  if (a == PiiPolicy::kHash || b == PiiPolicy::kHash) return PiiPolicy::kHash;
  return PiiPolicy::kNone;
}

FieldPlan PlanFor(const ModelVersion& model) {
  FieldPlan plan;
  if (!model.manifest.features.empty()) {
    for (const auto& f : model.manifest.features) {
      plan.fields.emplace_back(f.name, f.pii);
      plan.other_tensors = Stricter(plan.other_tensors, f.pii);
    }
  } else if (model.features) {
    for (auto& name : model.features->feature_names()) {
      plan.fields.emplace_back(std::move(name), PiiPolicy::kNone);
    }
  }
  return plan;
}

PiiPolicy PolicyOf(const FieldPlan& plan, std::string_view name) {
  for (const auto& [field, policy] : plan.fields) {
    if (field == name) return policy;
  }
  return plan.other_tensors;
}

// Appends the leaves of a (possibly nested) OIP `data` array to `out`.
void Flatten(const json::value& v, std::vector<const json::value*>* out) {
  if (!v.is_array()) {
    out->push_back(&v);
    return;
  }
  for (const auto& e : v.as_array()) Flatten(e, out);
}

std::string SegmentStamp(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

// Formats the rows of one event as JSON lines. OIP tensors are flattened
// once per event, not once per row.
class EventFormatter {
 public:
  EventFormatter(const PredictionEvent& event, const FieldPlan& plan, const std::string& pii_key)
      : event_(event), plan_(plan), pii_key_(pii_key) {
    if (event.endpoint == PredictionEvent::kInfer) {
      Split(event.inputs, /*redact=*/true, &inputs_);
      Split(event.outputs, /*redact=*/false, &outputs_);
    }
  }

  // Appends row `row` as one JSON line (without the newline) to `out`,
  // written directly (no intermediate JSON objects).
  void AppendLine(int64_t row, std::string* out) const {
    out->append("{\"request_id\":");
    AppendJsonString(event_.request_id, out);
    out->append(",\"time\":\"");
    out->append(time_);
    out->append("\",\"model\":");
    AppendJsonString(event_.model ? event_.model->name : "", out);
    out->append(",\"version\":");
    AppendJsonString(event_.model ? event_.model->version : "", out);
    out->append(event_.endpoint == PredictionEvent::kPredict ? ",\"endpoint\":\"predict\""
                                                             : ",\"endpoint\":\"infer\"");
    out->append(",\"row\":");
    out->append(std::to_string(row));
    out->append(",\"inputs\":{");
    bool first = true;
    if (event_.endpoint == PredictionEvent::kPredict) {
      const json::value* in = &event_.inputs;
      if (in->is_array()) {
        const auto& a = in->as_array();
        in = static_cast<size_t>(row) < a.size() ? &a[row] : nullptr;
      }
      if (in && in->is_object()) {
        for (const auto& [field, policy] : plan_.fields) {
          if (const json::value* v = in->as_object().if_contains(field)) {
            Field(field, *v, policy, &first, out);
          }
        }
      }
    } else {
      for (const auto& t : inputs_) Field(t.name, t.Row(row), t.policy, &first, out);
    }
    out->append("},\"outputs\":{");
    first = true;
    if (event_.endpoint == PredictionEvent::kPredict) {
      if (event_.outputs.is_object()) {
        for (const auto& kv : event_.outputs.as_object()) {
          const json::value& v = kv.value();
          if (v.is_array() && static_cast<size_t>(row) < v.as_array().size()) {
            Field(kv.key(), v.as_array()[row], PiiPolicy::kNone, &first, out);
          }
        }
      }
    } else {
      for (const auto& t : outputs_) Field(t.name, t.Row(row), t.policy, &first, out);
    }
    out->append("},\"latency_ms\":");
    AppendJson(json::value(event_.latency_ms), out);
    out->push_back('}');
  }

 private:
  // One OIP tensor, its leaves in row-major order.
  struct Tensor {
    std::string name;
    PiiPolicy policy;
    std::vector<const json::value*> flat;
    size_t per_row = 0;  // 0: the data does not split into rows
    // A scalar if a row holds one element, else a flat array.
    json::value Row(int64_t row) const {
      if (per_row == 0) return nullptr;
      const size_t first = per_row * static_cast<size_t>(row);
      if (per_row == 1) return *flat[first];
      json::array out;
      out.reserve(per_row);
      for (size_t i = 0; i < per_row; ++i) out.push_back(*flat[first + i]);
      return out;
    }
  };

  void Split(const json::value& list, bool redact, std::vector<Tensor>* out) const {
    if (!list.is_array()) return;
    for (const auto& t : list.as_array()) {
      if (!t.is_object()) continue;
      const json::value* name = t.as_object().if_contains("name");
      const json::value* data = t.as_object().if_contains("data");
      if (!name || !name->is_string() || !data) continue;
      Tensor tensor;
      tensor.name = name->as_string();
      tensor.policy = redact ? PolicyOf(plan_, tensor.name) : PiiPolicy::kNone;
      Flatten(*data, &tensor.flat);
      const auto rows = static_cast<size_t>(std::max<int64_t>(event_.rows, 0));
      if (rows > 0 && tensor.flat.size() % rows == 0) tensor.per_row = tensor.flat.size() / rows;
      out->push_back(std::move(tensor));
    }
  }

  // Appends `"name":value` (hashed or left out per `policy`).
  void Field(std::string_view name, const json::value& value, PiiPolicy policy, bool* first,
             std::string* out) const {
    if (policy == PiiPolicy::kDrop) return;
    if (!*first) out->push_back(',');
    *first = false;
    AppendJsonString(name, out);
    out->push_back(':');
    if (policy == PiiPolicy::kHash) {
      const std::string text =
          value.is_string() ? std::string(value.as_string()) : ToJson(value);
      out->append("\"hmac-sha256:");
      out->append(HmacSha256Hex(pii_key_, text), 0, 32);
      out->push_back('"');
      return;
    }
    AppendJson(value, out);
  }

  const PredictionEvent& event_;
  const FieldPlan& plan_;
  const std::string& pii_key_;
  const std::string time_ = Rfc3339(event_.time);  // once per event
  std::vector<Tensor> inputs_;
  std::vector<Tensor> outputs_;
};

}  // namespace

StatusOr<std::unique_ptr<PredictionLog>> PredictionLog::Open(PredictionLogOptions options,
                                                             MetricsRegistry* metrics) {
  if (options.dir.empty()) return InvalidArgument("prediction log: no directory given");
  if (!(options.sample_rate >= 0 && options.sample_rate <= 1)) {
    return InvalidArgument("prediction log: sample rate must be between 0 and 1");
  }
  if (options.segment_max_bytes == 0 || options.segment_max_age.count() <= 0) {
    return InvalidArgument("prediction log: segment size and age limits must be positive");
  }
  if (options.pii_key.empty()) return InvalidArgument("prediction log: no PII hash key");
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) {
    return Unavailable("cannot create prediction log directory '" + options.dir +
                       "': " + ec.message());
  }
  std::unique_ptr<PredictionLog> log(new PredictionLog(std::move(options), metrics));
  log->ApplyRetention();
  log->writer_ = std::thread([p = log.get()] {
    SetThreadName("mast-predlog");
    p->WriterLoop();
  });
  return log;
}

PredictionLog::PredictionLog(PredictionLogOptions options, MetricsRegistry* metrics)
    : options_(std::move(options)), rng_(std::random_device{}()) {
  auto* rows = metrics->AddCounter(
      "mast_prediction_log_rows_total",
      "Scored rows offered to the prediction log, by outcome: written, "
      "sampled_out, dropped (queue full) or failed (write error)",
      {"outcome"});
  rows_written_ = rows->WithLabels({"written"});
  rows_sampled_out_ = rows->WithLabels({"sampled_out"});
  rows_dropped_ = rows->WithLabels({"dropped"});
  rows_failed_ = rows->WithLabels({"failed"});
  bytes_written_ = metrics
                       ->AddCounter("mast_prediction_log_written_bytes_total",
                                    "Bytes appended to prediction log segments", {})
                       ->WithLabels({});
  queue_bytes_gauge_ = metrics
                           ->AddGauge("mast_prediction_log_queue_bytes",
                                      "Approximate bytes waiting for the prediction log writer",
                                      {})
                           ->WithLabels({});
  segments_gauge_ = metrics
                        ->AddGauge("mast_prediction_log_segments",
                                   "Prediction log segment files on disk", {})
                        ->WithLabels({});
  const auto now = std::chrono::steady_clock::now();
  last_sync_ = last_retention_ = now;
  last_error_log_ = now - std::chrono::hours(1);
}

PredictionLog::~PredictionLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
}

void PredictionLog::Append(PredictionEvent event) {
  const size_t bytes = event.bytes + sizeof(PredictionEvent);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_ && queue_bytes_ + bytes <= options_.queue_max_bytes) {
      queue_bytes_ += bytes;
      queue_bytes_gauge_->Set(static_cast<double>(queue_bytes_));
      ++appended_;
      event.bytes = bytes;
      queue_.push_back(std::move(event));
      return;
    }
  }
  rows_dropped_->Increment(static_cast<double>(event.rows));
}

void PredictionLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = appended_;
  ++flush_waiters_;
  wake_.notify_one();
  written_.wait(lock, [&] { return done_ >= target || !writer_.joinable(); });
  --flush_waiters_;
}

void PredictionLog::WriterLoop() {
  std::deque<PredictionEvent> batch;
  for (;;) {
    uint64_t taken;
    bool stop;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, options_.flush_interval,
                     [&] { return stopping_ || flush_waiters_ > 0; });
      batch.swap(queue_);
      queue_bytes_ = 0;
      taken = appended_;
      stop = stopping_;
    }
    queue_bytes_gauge_->Set(0);
    if (!batch.empty()) WriteBatch(&batch);
    batch.clear();
    SyncIfDue(stop);
    const auto now = std::chrono::steady_clock::now();
    if (fd_ >= 0 && segment_bytes_ > 0 && now - segment_opened_ >= options_.segment_max_age) {
      CloseSegment();
    }
    if (now - last_retention_ >= std::chrono::minutes(1)) ApplyRetention();
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = taken;
    }
    written_.notify_all();
    if (stop) break;
  }
  CloseSegment();
}

std::string PredictionLog::FormatRow(const PredictionEvent& event, int64_t row) const {
  const FieldPlan plan = event.model ? PlanFor(*event.model) : FieldPlan{};
  std::string line;
  EventFormatter(event, plan, options_.pii_key).AppendLine(row, &line);
  return line;
}

void PredictionLog::WriteBatch(std::deque<PredictionEvent>* batch) {
  std::string buffer;
  int64_t buffered_rows = 0;
  auto write_out = [&] {
    if (buffer.empty()) return;
    Status s = WriteToSegment(buffer);
    if (s.ok()) {
      rows_written_->Increment(static_cast<double>(buffered_rows));
      bytes_written_->Increment(static_cast<double>(buffer.size()));
    } else {
      rows_failed_->Increment(static_cast<double>(buffered_rows));
      const auto now = std::chrono::steady_clock::now();
      if (now - last_error_log_ >= std::chrono::minutes(1)) {
        last_error_log_ = now;
        LogError("prediction log write failed; rows are being dropped",
                 {{"error", s.message()}, {"dir", options_.dir}});
      }
    }
    buffer.clear();
    buffered_rows = 0;
  };
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  const ModelVersion* planned = nullptr;
  FieldPlan plan;
  for (const PredictionEvent& event : *batch) {
    if (event.model.get() != planned) {
      planned = event.model.get();
      plan = planned ? PlanFor(*planned) : FieldPlan{};
    }
    const EventFormatter format(event, plan, options_.pii_key);
    for (int64_t row = 0; row < event.rows; ++row) {
      if (options_.sample_rate < 1.0 && coin(rng_) >= options_.sample_rate) {
        rows_sampled_out_->Increment();
        continue;
      }
      format.AppendLine(row, &buffer);
      buffer += '\n';
      ++buffered_rows;
      if (buffer.size() >= (1u << 20)) write_out();
    }
  }
  write_out();
}

Status PredictionLog::WriteToSegment(const std::string& data) {
  if (fd_ >= 0 && segment_bytes_ > 0 &&
      (segment_bytes_ + data.size() > options_.segment_max_bytes ||
       std::chrono::steady_clock::now() - segment_opened_ >= options_.segment_max_age)) {
    CloseSegment();
  }
  if (fd_ < 0) RETURN_IF_ERROR(OpenSegment());
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string cause = std::strerror(errno);
      // A partial line may have reached the file: end the segment there
      // (readers skip an incomplete last line) and start a new one next time.
      CloseSegment();
      return Unavailable("write " + segment_path_ + ": " + cause);
    }
    off += static_cast<size_t>(n);
  }
  segment_bytes_ += data.size();
  unsynced_ = true;
  return OkStatus();
}

Status PredictionLog::OpenSegment() {
  // The sequence is process-wide, so two logs of one process (or a log
  // reopened within the same millisecond) never pick the same name; a name
  // that exists anyway (another process with our pid on a shared volume) is
  // skipped.
  static std::atomic<int64_t> sequence{0};
  for (int attempt = 0;; ++attempt) {
    const std::string name = SegmentStamp(std::chrono::system_clock::now()) + "-" +
                             std::to_string(::getpid()) + "-" +
                             std::to_string(sequence.fetch_add(1) + 1) + ".jsonl";
    segment_path_ = options_.dir + "/" + name;
    fd_ = ::open(segment_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
                 0640);
    if (fd_ >= 0) break;
    if (errno != EEXIST || attempt >= 100) {
      return Unavailable("create " + segment_path_ + ": " + std::strerror(errno));
    }
  }
  // Make the new file's directory entry durable too.
  if (int dir = ::open(options_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  segment_bytes_ = 0;
  segment_opened_ = std::chrono::steady_clock::now();
  ApplyRetention();
  return OkStatus();
}

void PredictionLog::CloseSegment() {
  if (fd_ < 0) return;
  SyncIfDue(/*force=*/true);
  ::close(fd_);
  fd_ = -1;
  segment_bytes_ = 0;
}

void PredictionLog::SyncIfDue(bool force) {
  if (fd_ < 0 || !unsynced_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_sync_ < options_.sync_interval) return;
  ::fdatasync(fd_);
  unsynced_ = false;
  last_sync_ = now;
}

void PredictionLog::ApplyRetention() {
  last_retention_ = std::chrono::steady_clock::now();
  struct Segment {
    std::string path;
    uint64_t bytes;
    fs::file_time_type modified;
  };
  std::vector<Segment> closed;
  uint64_t total = 0;
  int count = 0;
  std::error_code ec;
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".jsonl" || !it->is_regular_file(ec)) continue;
    const uint64_t bytes = it->file_size(ec);
    total += bytes;
    ++count;
    if (it->path().string() == segment_path_ && fd_ >= 0) continue;
    closed.push_back({it->path().string(), bytes, it->last_write_time(ec)});
  }
  std::sort(closed.begin(), closed.end(),
            [](const Segment& a, const Segment& b) { return a.path < b.path; });
  const auto too_old = fs::file_time_type::clock::now() - options_.retention_age;
  for (const Segment& s : closed) {
    if (total <= options_.retention_bytes && s.modified >= too_old) continue;
    if (fs::remove(s.path, ec)) {
      total -= s.bytes;
      --count;
    }
  }
  segments_gauge_->Set(count);
}

StatusOr<std::string> LoadOrCreatePiiKey(const std::string& path) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
      ::close(fd);
      ::unlink(path.c_str());
      return Unavailable("cannot generate a PII hash key: no randomness");
    }
    static const char* kHex = "0123456789abcdef";
    std::string key;
    for (unsigned char b : bytes) {
      key.push_back(kHex[b >> 4]);
      key.push_back(kHex[b & 0xf]);
    }
    const bool ok = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) &&
                    ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) {
      ::unlink(path.c_str());
      return Unavailable("cannot write PII hash key file '" + path + "'");
    }
    return key;
  }
  if (errno != EEXIST) {
    return Unavailable("cannot create PII hash key file '" + path + "': " + std::strerror(errno));
  }
  std::ifstream in(path);
  std::string key;
  if (!in || !std::getline(in, key) || key.empty()) {
    return Unavailable("cannot read PII hash key file '" + path + "'");
  }
  return key;
}

}  // namespace mast
