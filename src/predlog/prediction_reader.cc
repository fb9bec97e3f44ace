#include "predlog/prediction_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <boost/json.hpp>

#include "common/logging.h"

namespace mast {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// Rows may be written a little after their time (queueing, rotation), so a
// segment's name start is trusted only this far.
constexpr auto kStartSlack = std::chrono::minutes(5);

// The start time in a segment's name ("20261126T234512.123Z-..."), if any.
std::optional<std::chrono::system_clock::time_point> SegmentStart(const std::string& name) {
  if (name.size() < 20) return std::nullopt;
  const std::string text = name.substr(0, 4) + "-" + name.substr(4, 2) + "-" +
                           name.substr(6, 2) + "T" + name.substr(9, 2) + ":" +
                           name.substr(11, 2) + ":" + name.substr(13, 2) + name.substr(15, 5);
  auto t = ParseRfc3339(text);
  if (!t.ok()) return std::nullopt;
  return *t;
}

std::string_view StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}

}  // namespace

PredictionReader::PredictionReader(std::string dir, PredictionQuery query)
    : dir_(std::move(dir)), query_(std::move(query)) {
  if (query_.since) since_text_ = Rfc3339(*query_.since);
  if (query_.until) until_text_ = Rfc3339(*query_.until);
}

void PredictionReader::ListSegments() {
  listed_ = true;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".jsonl") continue;
    const std::string name = it->path().filename().string();
    if (query_.until) {
      auto start = SegmentStart(name);
      if (start && *start >= *query_.until + kStartSlack) continue;
    }
    if (query_.since) {
      std::error_code mec;
      const auto modified = fs::last_write_time(it->path(), mec);
      if (!mec) {
        const auto modified_sys = std::chrono::system_clock::now() +
                                  (modified - fs::file_time_type::clock::now());
        if (modified_sys + std::chrono::seconds(1) < *query_.since) continue;
      }
    }
    segments_.push_back(it->path().string());
  }
  std::sort(segments_.begin(), segments_.end());
}

bool PredictionReader::Matches(std::string_view line) {
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) {
    ++skipped_;
    return false;
  }
  const json::object& o = v.as_object();
  if (!query_.model.empty() && StringField(o, "model") != query_.model) return false;
  if (!query_.version.empty() && StringField(o, "version") != query_.version) return false;
  // Times are written as RFC 3339 UTC with milliseconds: text order is time
  // order.
  const std::string_view time = StringField(o, "time");
  if (!since_text_.empty() && time < since_text_) return false;
  if (!until_text_.empty() && time >= until_text_) return false;
  return true;
}

StatusOr<bool> PredictionReader::ReadSome(std::string* out, size_t max_bytes) {
  if (!listed_) ListSegments();
  const size_t start = out->size();
  std::string line;
  while (out->size() - start < max_bytes) {
    if (query_.limit > 0 && rows_ >= query_.limit) return false;
    if (!current_.is_open()) {
      if (next_ >= segments_.size()) return false;
      const std::string& path = segments_[next_++];
      current_.open(path, std::ios::binary);
      if (!current_) {
        if (errno == ENOENT) continue;  // removed by retention meanwhile
        return Internal("cannot read prediction log segment '" + path +
                        "': " + std::strerror(errno));
      }
    }
    if (!std::getline(current_, line)) {
      current_.close();
      current_.clear();
      continue;
    }
    if (current_.eof()) {
      // No newline: the tail of a write that did not finish (or is still
      // being written). Not a row.
      if (!line.empty()) ++skipped_;
      current_.close();
      current_.clear();
      continue;
    }
    if (line.empty() || !Matches(line)) continue;
    out->append(line);
    out->push_back('\n');
    ++rows_;
  }
  return true;
}

}  // namespace mast
