#include "api/mlflow_api.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <set>

#include <boost/json.hpp>

#include "api/mlflow_errors.h"
#include "common/json_reader.h"
#include "common/json_writer.h"
#include "common/logging.h"

namespace mast {

namespace json = boost::json;

namespace {

constexpr std::string_view kPrefix = "/api/2.0/mlflow/";
constexpr std::string_view kBlobScheme = "mast-blob:";

// MLflow's limits: search_registered_models defaults to 100 and allows 1000;
// search_model_versions defaults to (and allows) 10000.
constexpr int64_t kModelsDefaultMax = 100;
constexpr int64_t kModelsMaxMax = 1000;
constexpr int64_t kVersionsDefaultMax = 10000;
constexpr int64_t kVersionsMaxMax = 10000;
// Rows read from the store per round trip while scanning.
constexpr int kScanBatch = 200;

// ---------------------------------------------------------------------------
// Errors in MLflow's shape.

void ReplyMlflowError(Exchange& ex, int http_status, std::string_view error_code,
                      std::string_view message) {
  ex.ReplyJson(http_status, json::object{{"error_code", error_code}, {"message", message}});
}

void ReplyMlflowError(Exchange& ex, const Status& status) {
  const MlflowErrorCode code = MlflowCodeFor(status.code());
  ReplyMlflowError(ex, code.http_status, code.name, status.message());
}

// ---------------------------------------------------------------------------
// Request parameters.

// Decodes one application/x-www-form-urlencoded component ('+' is a space).
std::string FormDecode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

// The request's parameters as one JSON object: the fields of the JSON body
// (MLflow clients send one on POST, PATCH and DELETE), then the query
// parameters the body does not have (GET; a repeated key becomes an array).
StatusOr<json::object> RequestParams(const Exchange& ex) {
  json::object params;
  if (!IsBlank(ex.request.body())) {
    boost::system::error_code ec;
    json::value v = json::parse(ex.request.body(), ec);
    if (ec) return InvalidArgument("request body is not valid JSON: " +
                                  DescribeJsonError(ex.request.body(), ec));
    if (!v.is_object()) return InvalidArgument("request body must be a JSON object");
    params = std::move(v.as_object());
  }
  std::set<std::string> from_query;
  std::string_view q = ex.query;
  while (!q.empty()) {
    const size_t amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string key = FormDecode(pair.substr(0, eq));
    json::string value(eq == std::string_view::npos ? "" : FormDecode(pair.substr(eq + 1)));
    if (from_query.count(key)) {
      json::value& existing = params[key];
      if (!existing.is_array()) {
        json::array values;
        values.push_back(std::move(existing));
        existing = std::move(values);
      }
      existing.as_array().push_back(std::move(value));
    } else if (!params.contains(key)) {
      params[key] = std::move(value);
      from_query.insert(key);
    }
  }
  return params;
}

StatusOr<std::string> OptionalString(const json::object& p, std::string_view key) {
  const json::value* v = p.if_contains(key);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) {
    return InvalidArgument("parameter '" + std::string(key) + "' must be a string");
  }
  return std::string(v->get_string());
}

StatusOr<std::string> RequiredString(const json::object& p, std::string_view key) {
  ASSIGN_OR_RETURN(std::string s, OptionalString(p, key));
  if (s.empty()) {
    return InvalidArgument("missing value for required parameter '" + std::string(key) + "'");
  }
  return s;
}

std::optional<int64_t> ParsePositive(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n > 0 ? std::optional<int64_t>(n) : std::nullopt;
}

// A version number: MLflow sends it as a string ("3"); a JSON number is
// accepted too.
StatusOr<int64_t> RequiredVersion(const json::object& p) {
  const json::value* v = p.if_contains("version");
  if (v == nullptr || v->is_null() || (v->is_string() && v->get_string().empty())) {
    return InvalidArgument("missing value for required parameter 'version'");
  }
  std::optional<int64_t> n;
  if (v->is_string()) n = ParsePositive(v->get_string());
  if (v->is_int64() && v->get_int64() > 0) n = v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    n = static_cast<int64_t>(v->get_uint64());
  }
  if (!n) {
    return InvalidArgument("parameter 'version' must be a positive integer, got " +
                           serialize(*v));
  }
  return *n;
}

// max_results: absent means `default_value`; otherwise 1..`max_value`.
StatusOr<int64_t> MaxResults(const json::object& p, int64_t default_value, int64_t max_value) {
  const json::value* v = p.if_contains("max_results");
  if (v == nullptr || v->is_null() || (v->is_string() && v->get_string().empty())) {
    return default_value;
  }
  std::optional<int64_t> n;
  if (v->is_string()) n = ParsePositive(v->get_string());
  if (v->is_int64() && v->get_int64() > 0) n = v->get_int64();
  if (v->is_uint64()) n = max_value + 1;  // beyond int64: certainly too large
  if (!n || *n > max_value) {
    return InvalidArgument("invalid value " + serialize(*v) +
                           " for parameter 'max_results': it must be at most " +
                           std::to_string(max_value) + " and positive");
  }
  return *n;
}

// A repeated string parameter: a JSON array of strings, or one string.
StatusOr<std::vector<std::string>> StringList(const json::object& p, std::string_view key) {
  std::vector<std::string> out;
  const json::value* v = p.if_contains(key);
  if (v == nullptr || v->is_null()) return out;
  if (v->is_string()) {
    if (!v->get_string().empty()) out.emplace_back(v->get_string());
    return out;
  }
  if (v->is_array()) {
    for (const auto& e : v->get_array()) {
      if (!e.is_string()) break;
      out.emplace_back(e.get_string());
    }
    if (out.size() == v->get_array().size()) return out;
  }
  return InvalidArgument("parameter '" + std::string(key) + "' must be a list of strings");
}

// MLflow tags: [{"key": "k", "value": "v"}, ...].
StatusOr<Tags> TagsParam(const json::object& p) {
  Tags tags;
  const json::value* v = p.if_contains("tags");
  if (v == nullptr || v->is_null()) return tags;
  const Status shape =
      InvalidArgument("parameter 'tags' must be a list of {\"key\": ..., \"value\": ...}");
  if (!v->is_array()) return shape;
  for (const auto& e : v->get_array()) {
    if (!e.is_object()) return shape;
    ASSIGN_OR_RETURN(std::string key, RequiredString(e.get_object(), "key"));
    ASSIGN_OR_RETURN(std::string value, OptionalString(e.get_object(), "value"));
    tags[key] = value;
  }
  return tags;
}

// order_by: mast returns search results in one order (`what`); a request
// for another is refused rather than silently answered in the wrong order.
Status CheckOrderBy(const json::object& p, const std::set<std::string>& accepted,
                    std::string_view what) {
  ASSIGN_OR_RETURN(std::vector<std::string> order_by, StringList(p, "order_by"));
  for (const auto& entry : order_by) {
    std::string norm;
    bool space = false;
    for (unsigned char c : entry) {
      if (std::isspace(c)) {
        space = !norm.empty();
        continue;
      }
      if (space) norm.push_back(' ');
      space = false;
      norm.push_back(static_cast<char>(std::tolower(c)));
    }
    if (!accepted.count(norm)) {
      return InvalidArgument("order_by '" + entry + "' is not supported: mast returns " +
                             std::string(what));
    }
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------
// Search filters: a subset of MLflow's SQL-like syntax. Conditions joined by
// AND; each is `attribute op value` with op one of = != LIKE ILIKE IN, string
// values in single or double quotes, and tags as tags.key or tags.`a key`.

struct Condition {
  std::string attribute;  // "name", "run_id", "version_number" or "tags"
  std::string key;        // the tag key, for "tags"
  std::string op;         // "=", "!=", "LIKE", "ILIKE", "IN"
  std::vector<std::string> values;
};

class FilterParser {
 public:
  FilterParser(std::string_view text, const std::set<std::string>& attributes)
      : text_(text), attributes_(attributes) {}

  StatusOr<std::vector<Condition>> Parse() {
    std::vector<Condition> out;
    SkipSpace();
    if (AtEnd()) return out;
    while (true) {
      ASSIGN_OR_RETURN(Condition c, ParseCondition());
      out.push_back(std::move(c));
      SkipSpace();
      if (AtEnd()) return out;
      if (!ConsumeKeyword("AND")) return Error("expected AND");
    }
  }

 private:
  Status Error(std::string_view what) const {
    return InvalidArgument("invalid filter \"" + std::string(text_) + "\": " + std::string(what) +
                           " at position " + std::to_string(pos_));
  }
  bool AtEnd() const { return pos_ >= text_.size(); }
  void SkipSpace() {
    while (!AtEnd() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  static bool IsWordChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  }
  // Consumes `word` (any case) if it is the next whole word.
  bool ConsumeKeyword(std::string_view word) {
    SkipSpace();
    if (text_.size() - pos_ < word.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
      if (std::toupper(static_cast<unsigned char>(text_[pos_ + i])) != word[i]) return false;
    }
    if (pos_ + word.size() < text_.size() && IsWordChar(text_[pos_ + word.size()])) return false;
    pos_ += word.size();
    return true;
  }
  // A quoted text ('...', "..." or `...`; the quote doubled stands for itself).
  StatusOr<std::string> Quoted() {
    const char quote = text_[pos_++];
    std::string out;
    while (!AtEnd()) {
      const char c = text_[pos_++];
      if (c != quote) {
        out.push_back(c);
      } else if (!AtEnd() && text_[pos_] == quote) {
        out.push_back(quote);
        ++pos_;
      } else {
        return out;
      }
    }
    return Error("unterminated quote");
  }
  // An identifier: segments separated by '.', each a word or quoted.
  StatusOr<std::vector<std::string>> Identifier() {
    std::vector<std::string> segments;
    SkipSpace();
    while (true) {
      if (AtEnd()) return Error("expected an attribute");
      if (text_[pos_] == '`' || text_[pos_] == '"') {
        ASSIGN_OR_RETURN(std::string s, Quoted());
        segments.push_back(std::move(s));
      } else {
        const size_t start = pos_;
        while (!AtEnd() && IsWordChar(text_[pos_])) ++pos_;
        if (pos_ == start) return Error("expected an attribute");
        segments.emplace_back(text_.substr(start, pos_ - start));
      }
      if (AtEnd() || text_[pos_] != '.') return segments;
      ++pos_;
    }
  }
  StatusOr<std::string> Value() {
    SkipSpace();
    if (AtEnd()) return Error("expected a value");
    if (text_[pos_] == '\'' || text_[pos_] == '"') return Quoted();
    const size_t start = pos_;
    while (!AtEnd() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    if (pos_ == start) return Error("expected a quoted value");
    return std::string(text_.substr(start, pos_ - start));
  }
  StatusOr<Condition> ParseCondition() {
    const size_t start = pos_;
    ASSIGN_OR_RETURN(std::vector<std::string> id, Identifier());
    Condition c;
    std::string head = id[0];
    std::transform(head.begin(), head.end(), head.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    if ((head == "tags" || head == "tag") && id.size() == 2) {
      c.attribute = "tags";
      c.key = id[1];
    } else if (id.size() == 1) {
      c.attribute = head;
    }
    if (c.attribute.empty() || !attributes_.count(c.attribute)) {
      std::string list;
      for (const auto& a : attributes_) {
        list += (list.empty() ? "" : ", ") + (a == "tags" ? std::string("tags.<key>") : a);
      }
      pos_ = start;
      return Error("unsupported attribute (supported: " + list + ")");
    }
    SkipSpace();
    if (text_.substr(pos_, 2) == "!=" || text_.substr(pos_, 2) == "<>") {
      c.op = "!=";
      pos_ += 2;
    } else if (!AtEnd() && text_[pos_] == '=') {
      c.op = "=";
      ++pos_;
    } else if (ConsumeKeyword("LIKE")) {
      c.op = "LIKE";
    } else if (ConsumeKeyword("ILIKE")) {
      c.op = "ILIKE";
    } else if (ConsumeKeyword("IN")) {
      c.op = "IN";
    } else {
      return Error("expected one of =, !=, LIKE, ILIKE, IN");
    }
    if (c.op == "IN") {
      SkipSpace();
      if (AtEnd() || text_[pos_] != '(') return Error("expected '(' after IN");
      ++pos_;
      while (true) {
        ASSIGN_OR_RETURN(std::string v, Value());
        c.values.push_back(std::move(v));
        SkipSpace();
        if (!AtEnd() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (!AtEnd() && text_[pos_] == ')') {
          ++pos_;
          break;
        }
        return Error("expected ',' or ')'");
      }
    } else {
      ASSIGN_OR_RETURN(std::string v, Value());
      c.values.push_back(std::move(v));
    }
    if (c.attribute == "version_number") {
      if (c.op == "LIKE" || c.op == "ILIKE") return Error("version_number takes =, != or IN");
      for (auto& v : c.values) {
        auto n = ParsePositive(v);
        if (!n) return Error("version_number must be compared with a positive integer");
        v = std::to_string(*n);
      }
    }
    return c;
  }

  std::string_view text_;
  const std::set<std::string>& attributes_;
  size_t pos_ = 0;
};

// Whether `actual` (nullptr: the tag is absent) satisfies `c`.
bool Satisfies(const Condition& c, const std::string* actual) {
  if (actual == nullptr) return false;
  if (c.op == "=") return *actual == c.values[0];
  if (c.op == "!=") return *actual != c.values[0];
  if (c.op == "LIKE") return LikeMatch(*actual, c.values[0], false);
  if (c.op == "ILIKE") return LikeMatch(*actual, c.values[0], true);
  return std::find(c.values.begin(), c.values.end(), *actual) != c.values.end();
}

const std::string* TagValue(const Tags& tags, const std::string& key) {
  auto it = tags.find(key);
  return it == tags.end() ? nullptr : &it->second;
}

bool ModelMatches(const std::vector<Condition>& conditions, const RegisteredModel& m) {
  for (const auto& c : conditions) {
    const std::string* actual = c.attribute == "name" ? &m.name : TagValue(m.tags, c.key);
    if (!Satisfies(c, actual)) return false;
  }
  return true;
}

bool NameMatches(const std::vector<Condition>& conditions, const std::string& name) {
  for (const auto& c : conditions) {
    if (c.attribute == "name" && !Satisfies(c, &name)) return false;
  }
  return true;
}

bool VersionMatches(const std::vector<Condition>& conditions, const ModelVersionRecord& v) {
  const std::string number = std::to_string(v.version);
  for (const auto& c : conditions) {
    const std::string* actual = nullptr;
    if (c.attribute == "name") actual = &v.model_name;
    if (c.attribute == "run_id") actual = &v.run_id;
    if (c.attribute == "version_number") actual = &number;
    if (c.attribute == "tags") actual = TagValue(v.tags, c.key);
    if (!Satisfies(c, actual)) return false;
  }
  return true;
}

// The one model name a filter pins down (name = '...'), if any.
std::optional<std::string> ExactName(const std::vector<Condition>& conditions) {
  for (const auto& c : conditions) {
    if (c.attribute == "name" && c.op == "=") return c.values[0];
  }
  return std::nullopt;
}

// A substring every matching name contains, for the store's name filter
// (which is case-sensitive on PostgreSQL, so only plain LIKE qualifies): the
// longest literal run of a LIKE pattern. Empty: no narrowing.
std::string NameSubstring(const std::vector<Condition>& conditions) {
  std::string best;
  for (const auto& c : conditions) {
    if (c.attribute != "name" || c.op != "LIKE") continue;
    std::string run;
    for (char ch : c.values[0] + '%') {
      if (ch == '%' || ch == '_') {
        if (run.size() > best.size() && run.find('\\') == std::string::npos) best = run;
        run.clear();
      } else {
        run.push_back(ch);
      }
    }
  }
  return best;
}

// ---------------------------------------------------------------------------
// MLflow's JSON shapes.

int64_t EpochMillis(const std::string& rfc3339) {
  return EpochMillisFromRfc3339(rfc3339).value_or(0);
}

std::string_view MlflowStatusName(VersionStatus s) {
  switch (s) {
    case VersionStatus::kPending: return "PENDING_REGISTRATION";
    case VersionStatus::kReady: return "READY";
    case VersionStatus::kFailed: return "FAILED_REGISTRATION";
  }
  return "PENDING_REGISTRATION";
}

std::string SourceUri(const std::string& digest) { return std::string(kBlobScheme) + digest; }

json::array TagsJson(const Tags& tags) {
  json::array out;
  for (const auto& [k, v] : tags) out.push_back(json::object{{"key", k}, {"value", v}});
  return out;
}

json::object VersionJson(const ModelVersionRecord& v) {
  json::array aliases;
  for (const auto& a : v.aliases) aliases.push_back(json::string(a));
  return json::object{{"name", v.model_name},
                      {"version", std::to_string(v.version)},
                      {"creation_timestamp", EpochMillis(v.created_at)},
                      {"last_updated_timestamp", EpochMillis(v.updated_at)},
                      {"user_id", v.created_by},
                      {"current_stage", "None"},
                      {"description", v.description},
                      {"source", SourceUri(v.digest)},
                      {"run_id", v.run_id},
                      {"status", MlflowStatusName(v.status)},
                      {"status_message", v.status_message},
                      {"tags", TagsJson(v.tags)},
                      {"aliases", std::move(aliases)}};
}

json::object ModelJson(const RegisteredModel& m, const std::optional<ModelVersionRecord>& latest) {
  json::array latest_versions;
  if (latest) latest_versions.push_back(VersionJson(*latest));
  json::array aliases;
  for (const auto& [alias, version] : m.aliases) {
    aliases.push_back(json::object{{"alias", alias}, {"version", std::to_string(version)}});
  }
  return json::object{{"name", m.name},
                      {"creation_timestamp", EpochMillis(m.created_at)},
                      {"last_updated_timestamp", EpochMillis(m.updated_at)},
                      {"user_id", m.created_by},
                      {"description", m.description},
                      {"latest_versions", std::move(latest_versions)},
                      {"tags", TagsJson(m.tags)},
                      {"aliases", std::move(aliases)}};
}

// ---------------------------------------------------------------------------
// Version sources.

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The blob digest a create request's `source` names: "sha256:<hex>" or
// "mast-blob:sha256:<hex>". Anything else is refused: mast does not read
// server-side paths or fetch remote URIs on a client's behalf.
StatusOr<std::string> DigestFromSource(const std::string& source) {
  constexpr std::string_view kUpload =
      "; upload the artifact with POST /api/v1/blobs and pass the digest it returns as source "
      "('sha256:<hex>' or 'mast-blob:sha256:<hex>')";
  std::string_view s = source;
  const bool blob_scheme = s.substr(0, kBlobScheme.size()) == kBlobScheme;
  if (blob_scheme) s.remove_prefix(kBlobScheme.size());
  if (s.substr(0, 7) == "sha256:") {
    std::string hex(s.substr(7));
    std::transform(hex.begin(), hex.end(), hex.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (hex.size() == 64 && IsLowerHex(hex)) return "sha256:" + hex;
  }
  if (blob_scheme || s.substr(0, 7) == "sha256:") {
    return InvalidArgument("source '" + source +
                           "' is not a valid blob reference: expected sha256: and 64 hex digits" +
                           std::string(kUpload));
  }
  const size_t colon = source.find(':');
  const bool has_scheme =
      colon != std::string::npos && colon > 1 &&
      std::all_of(source.begin(), source.begin() + static_cast<std::ptrdiff_t>(colon),
                  [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '-' || c == '.'; });
  if (!has_scheme || source.substr(0, colon) == "file") {
    return InvalidArgument("source '" + source +
                           "' is a local path, which mast does not accept (the server does not "
                           "read files from its own disk for a client)" +
                           std::string(kUpload));
  }
  return InvalidArgument("source '" + source + "' uses the scheme '" + source.substr(0, colon) +
                         "', which mast cannot fetch" + std::string(kUpload));
}

// ---------------------------------------------------------------------------
// The routes' shared state and store helpers.

class MlflowApi {
 public:
  MlflowApi(Registry* registry, WorkerPool* workers, std::function<void()> on_change)
      : registry_(registry), workers_(workers), on_change_(std::move(on_change)) {}

  void Offload(std::shared_ptr<Exchange> ex, std::function<void(Exchange&)> work) {
    workers_->Post([ex, work = std::move(work)] { work(*ex); });
  }
  void Changed() {
    if (on_change_) on_change_();
  }
  Registry* registry() { return registry_; }
  RegistryStore* store() { return registry_->store(); }

  // The newest READY version of `name`, if any (MLflow's latest_versions
  // only hold READY versions).
  StatusOr<std::optional<ModelVersionRecord>> LatestReady(const std::string& name) {
    int64_t before = 0;
    while (true) {
      ASSIGN_OR_RETURN(auto batch, store()->ListVersions(name, kScanBatch, before));
      for (auto& v : batch) {
        if (v.status == VersionStatus::kReady) return std::optional<ModelVersionRecord>(v);
        before = v.version;
      }
      if (static_cast<int>(batch.size()) < kScanBatch) return std::optional<ModelVersionRecord>();
    }
  }

  StatusOr<json::object> ModelWithLatest(const RegisteredModel& m) {
    ASSIGN_OR_RETURN(auto latest, LatestReady(m.name));
    return ModelJson(m, latest);
  }

  StatusOr<json::object> GetModelJson(const std::string& name) {
    ASSIGN_OR_RETURN(RegisteredModel m, store()->GetModel(name));
    ASSIGN_OR_RETURN(json::object o, ModelWithLatest(m));
    return json::object{{"registered_model", std::move(o)}};
  }

  StatusOr<json::object> GetVersionJson(const std::string& name, int64_t version) {
    ASSIGN_OR_RETURN(ModelVersionRecord v, store()->GetVersion(name, version));
    return json::object{{"model_version", VersionJson(v)}};
  }

  // Visits models in name order after `after` (narrowed to names containing
  // `contains`, or to exactly `exact`) until `visit` returns false.
  Status ScanModels(const std::optional<std::string>& exact, const std::string& contains,
                    std::string after, const std::function<bool(RegisteredModel&)>& visit) {
    if (exact) {
      if (*exact <= after) return OkStatus();
      auto m = store()->GetModel(*exact);
      if (m.status().code() == StatusCode::kNotFound) return OkStatus();
      if (!m.ok()) return m.status();
      visit(*m);
      return OkStatus();
    }
    while (true) {
      ASSIGN_OR_RETURN(auto batch, store()->ListModels(contains, kScanBatch, after));
      for (auto& m : batch) {
        after = m.name;
        if (!visit(m)) return OkStatus();
      }
      if (static_cast<int>(batch.size()) < kScanBatch) return OkStatus();
    }
  }

  // Visits the versions of `name` newest first, below `before` (0: all),
  // until `visit` returns false; returns whether the scan ran to the end. A
  // model deleted meanwhile has no versions.
  StatusOr<bool> ScanVersions(const std::string& name, int64_t before,
                              const std::function<bool(ModelVersionRecord&)>& visit) {
    while (true) {
      auto batch = store()->ListVersions(name, kScanBatch, before);
      if (batch.status().code() == StatusCode::kNotFound) return true;
      if (!batch.ok()) return batch.status();
      for (auto& v : *batch) {
        before = v.version;
        if (!visit(v)) return false;
      }
      if (static_cast<int>(batch->size()) < kScanBatch) return true;
    }
  }

 private:
  Registry* registry_;
  WorkerPool* workers_;
  std::function<void()> on_change_;
};

// A route's work: the answer's JSON body (200), or the error to answer.
using MlflowWork =
    std::function<StatusOr<json::object>(MlflowApi& api, const json::object& params, Exchange& ex)>;

// Search page tokens for versions: "<version>:<model>" of the last version
// returned (results go by model name, then version newest first).
std::string VersionPageToken(const ModelVersionRecord& v) {
  return std::to_string(v.version) + ":" + v.model_name;
}

StatusOr<std::pair<std::string, int64_t>> ParseVersionPageToken(const std::string& token) {
  const size_t colon = token.find(':');
  auto version = colon == std::string::npos ? std::nullopt
                                            : ParsePositive(std::string_view(token).substr(0, colon));
  if (!version || colon + 1 >= token.size()) {
    return InvalidArgument("page_token '" + token + "' is not valid");
  }
  return std::make_pair(token.substr(colon + 1), *version);
}

const std::set<std::string> kStages = {"none", "staging", "production", "archived"};

}  // namespace

std::optional<int64_t> EpochMillisFromRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  auto digits = [&](size_t pos, size_t n) -> std::optional<int> {
    if (pos + n > s.size()) return std::nullopt;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  auto hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || *month < 1 || *month > 12 ||
      *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int scale = 100;
    const size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset_seconds = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    auto oh = digits(pos + 1, 2), om = digits(pos + 4, 2);
    if (!oh || !om || pos + 3 >= s.size() || s[pos + 3] != ':') return std::nullopt;
    offset_seconds = (*oh * 3600 + *om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  const time_t secs = timegm(&tm);
  return (static_cast<int64_t>(secs) - offset_seconds) * 1000 + millis;
}

bool LikeMatch(std::string_view text, std::string_view pattern, bool ignore_case) {
  auto same = [ignore_case](char a, char b) {
    if (!ignore_case) return a == b;
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  // Greedy matching that backtracks to the last '%' (linear space, no
  // recursion).
  size_t t = 0, p = 0;
  size_t star = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star = p++;
      star_t = t;
    } else if (p < pattern.size() && (pattern[p] == '_' || same(pattern[p], text[t]))) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

void RegisterMlflowApi(Gateway* gateway, Registry* registry, WorkerPool* workers,
                       std::function<void()> on_change) {
  auto api = std::make_shared<MlflowApi>(registry, workers, std::move(on_change));
  auto add = [&](http::verb method, std::string_view path, std::string summary, MlflowWork work) {
    gateway->AddRoute(
        {method, std::string(kPrefix) + std::string(path),
         // Errors are written here in MLflow's shape, and the gateway's own
         // answers (401, 403, 429) on these routes take it too.
         ErrorStyle::kMlflow, std::move(summary), "mlflow",
         [api, work](std::shared_ptr<Exchange> ex) {
           api->Offload(ex, [api, work](Exchange& e) {
             auto params = RequestParams(e);
             if (!params.ok()) return ReplyMlflowError(e, params.status());
             auto body = work(*api, *params, e);
             if (!body.ok()) return ReplyMlflowError(e, body.status());
             e.ReplyJson(200, *body);
           });
         },
         /*admin=*/true});
  };
  auto not_implemented = [&](http::verb method, std::string_view path, std::string summary,
                             std::string message) {
    gateway->AddRoute({method, std::string(kPrefix) + std::string(path), ErrorStyle::kMlflow,
                       std::move(summary), "mlflow",
                       [message](std::shared_ptr<Exchange> ex) {
                         ReplyMlflowError(*ex, 501, "NOT_IMPLEMENTED", message);
                       },
                       /*admin=*/true});
  };

  // --- Registered models -------------------------------------------------

  add(http::verb::post, "registered-models/create", "MLflow: create a registered model",
      [](MlflowApi& api, const json::object& p, Exchange& ex) -> StatusOr<json::object> {
        ASSIGN_OR_RETURN(std::string name, RequiredString(p, "name"));
        ASSIGN_OR_RETURN(std::string description, OptionalString(p, "description"));
        ASSIGN_OR_RETURN(Tags tags, TagsParam(p));
        auto m = api.store()->CreateModel(name, description, tags, ex.actor);
        if (m.status().code() == StatusCode::kAlreadyExists) {
          return AlreadyExists("Registered Model (name=" + name + ") already exists.");
        }
        if (!m.ok()) return m.status();
        api.Changed();
        return json::object{{"registered_model", ModelJson(*m, std::nullopt)}};
      });

  add(http::verb::get, "registered-models/get", "MLflow: get a registered model",
      [](MlflowApi& api, const json::object& p, Exchange&) -> StatusOr<json::object> {
        ASSIGN_OR_RETURN(std::string name, RequiredString(p, "name"));
        return api.GetModelJson(name);
      });

  MlflowWork search_models = [](MlflowApi& api, const json::object& p,
                                Exchange&) -> StatusOr<json::object> {
    ASSIGN_OR_RETURN(std::string filter, OptionalString(p, "filter"));
    ASSIGN_OR_RETURN(int64_t max, MaxResults(p, kModelsDefaultMax, kModelsMaxMax));
    ASSIGN_OR_RETURN(std::string token, OptionalString(p, "page_token"));
    RETURN_IF_ERROR(CheckOrderBy(p, {"name", "name asc"}, "registered models ordered by name"));
    const std::set<std::string> attributes = {"name", "tags"};
    ASSIGN_OR_RETURN(auto conditions, FilterParser(filter, attributes).Parse());
    std::vector<RegisteredModel> found;
    RETURN_IF_ERROR(api.ScanModels(ExactName(conditions), NameSubstring(conditions), token,
                                   [&](RegisteredModel& m) {
                                     if (ModelMatches(conditions, m)) found.push_back(std::move(m));
                                     return static_cast<int64_t>(found.size()) <= max;
                                   }));
    json::object out;
    if (static_cast<int64_t>(found.size()) > max) {
      found.resize(static_cast<size_t>(max));
      out["next_page_token"] = found.back().name;
    }
    json::array models;
    for (const auto& m : found) {
      ASSIGN_OR_RETURN(json::object o, api.ModelWithLatest(m));
      models.push_back(std::move(o));
    }
    out["registered_models"] = std::move(models);
    return out;
  };
  add(http::verb::get, "registered-models/search",
      "MLflow: search registered models (filter on name and tags, max_results, page_token)",
      search_models);
  add(http::verb::post, "registered-models/search", "MLflow: search registered models",
      search_models);

  add(http::verb::patch, "registered-models/update", "MLflow: update a model's description",
      [](MlflowApi& api, const json::object& p, Exchange&) -> StatusOr<json::object> {
        ASSIGN_OR_RETURN(std::string name, RequiredString(p, "name"));
        ASSIGN_OR_RETURN(std::string description, OptionalString(p, "description"));
        if (p.contains("description")) {
          RETURN_IF_ERROR(api.store()->UpdateModel(name, description));
          api.Changed();
        }
        return api.GetModelJson(name);
      });

  add(http::verb::delete_, "registered-models/delete",
      "MLflow: delete a registered model and its versions (refused while it has aliases)",
      [](MlflowApi& api, const json::object& p, Exchange&) -> StatusOr<json::object> {
        ASSIGN_OR_RETURN(std::string name, RequiredString(p, "name"));
        RETURN_IF_ERROR(api.store()->DeleteModel(name));
        api.Changed();
        return json::object{};
      });

  not_implemented(http::verb::post, "registered-models/rename",
                  "MLflow: rename a registered model (not supported: 501)",
                  "mast does not rename registered models: create a model under the new name "
                  "and register its versions again");

  add(http::verb::post, "registered-models/set-tag", "MLflow: set a registered model tag",
      [](MlflowApi& api, const json::object& p, Exchange&) -> StatusOr<json::object> {
        ASSIGN_OR_RETURN(std::string name, RequiredString(p, "name"));
        ASSIGN_OR_RETURN(std::string key, RequiredString(p, "key"));
        ASSIGN_OR_RETURN(std::string value, OptionalString(p, "value"));
        RETURN_IF_ERROR(api.store()->SetModelTag(name, key, value));
        api.Changed();
        return json::object{};
      });

  add(http::verb::delete_, "registered-models/delete-tag",
      "MLflow: delete a registered model tag",
      [](MlflowApi& api, const json::object& p, Exchange&) -> StatusOr<json::object> {
        ASSIGN_OR_RETURN(std::string name, RequiredString(p, "name"));
        ASSIGN_OR_RETURN(std::string key, RequiredString(p, "key"));
        RETURN_IF_ERROR(api.store()->DeleteModelTag(name, key));
        api.Changed();
        return json::object{};
      });

  add(http::verb::post, "registered-models/alias",
      "MLflow: point an alias at a READY version (recorded in the alias history)",
      [](MlflowApi& api, const json::object& p, Exchange& ex) -> StatusOr<json::object> {
        ASSIGN_OR_RETURN(std::string name, RequiredString(p, "name"));
        ASSIGN_OR_RETURN(std::string alias, RequiredString(p, "alias"));
        ASSIGN_OR_RETURN(int64_t version, RequiredVersion(p));
        RETURN_IF_ERROR(api.store()->SetAlias(name, alias, version, ex.actor));
        api.Changed();
        LogInfo("alias moved",
                {{"model", name}, {"alias", alias}, {"version", version}, {"actor", ex.actor}});
        return json::object{};
      });

  add(http::verb::delete_, "registered-models/alias", "MLflow: delete an alias",
      [](MlflowApi& api, const json::object& p, Exchange& ex) -> StatusOr<json::object> {
        ASSIGN_OR_RETURN(std::string name, RequiredString(p, "name"));
        ASSIGN_OR_RETURN(std::string alias, RequiredString(p, "alias"));
        RETURN_IF_ERROR(api.store()->DeleteAlias(name, alias, ex.actor));
        api.Changed();
        LogInfo("alias deleted", {{"model", name}, {"alias", alias}, {"actor", ex.actor}});
        return json::object{};
      });

  add(http::verb::get, "registered-models/alias", "MLflow: the version an alias points at",
      [](MlflowApi& api, const json::object& p, Exchange&) -> StatusOr<json::object> {
        ASSIGN_OR_RETURN(std::string name, RequiredString(p, "name"));
        ASSIGN_OR_RETURN(std::string alias, RequiredString(p, "alias"));
        ASSIGN_OR_RETURN(ModelVersionRecord v, api.store()->GetVersionByAlias(name, alias));
        return json::object{{"model_version", VersionJson(v)}};
      });

  // mast has no stages: every version is in stage "None", so the latest
  // version "for stage None" (or for no stage given) is the newest READY
  // version, and Staging/Production/Archived hold none. Answering those with
  // the newest version instead would hand a deployment script a version
  // nobody promoted.
  MlflowWork latest_versions = [](MlflowApi& api, const json::object& p,
                                  Exchange&) -> StatusOr<json::object> {
    ASSIGN_OR_RETURN(std::string name, RequiredString(p, "name"));
    ASSIGN_OR_RETURN(std::vector<std::string> stages, StringList(p, "stages"));
    bool wants_none = stages.empty();
    for (const auto& stage : stages) {
      std::string lower = stage;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      if (!kStages.count(lower)) {
        return InvalidArgument("invalid model version stage '" + stage +
                               "': expected one of None, Staging, Production, Archived");
      }
      wants_none = wants_none || lower == "none";
    }
    RETURN_IF_ERROR(api.store()->GetModel(name).status());
    json::array versions;
    if (wants_none) {
      ASSIGN_OR_RETURN(auto latest, api.LatestReady(name));
      if (latest) versions.push_back(VersionJson(*latest));
    }
    return json::object{{"model_versions", std::move(versions)}};
  };
  add(http::verb::post, "registered-models/get-latest-versions",
      "MLflow: the newest READY version (mast has no stages; every version is in stage None)",
      latest_versions);
  add(http::verb::get, "registered-models/get-latest-versions",
      "MLflow: the newest READY version", latest_versions);

  // --- Model versions ----------------------------------------------------

  add(http::verb::post, "model-versions/create",
      "MLflow: create a version from an uploaded blob (source sha256:... or "
      "mast-blob:sha256:...); it is test-loaded before the answer",
      [](MlflowApi& api, const json::object& p, Exchange& ex) -> StatusOr<json::object> {
        NewVersion req;
        ASSIGN_OR_RETURN(req.model_name, RequiredString(p, "name"));
        ASSIGN_OR_RETURN(std::string source, RequiredString(p, "source"));
        ASSIGN_OR_RETURN(req.digest, DigestFromSource(source));
        ASSIGN_OR_RETURN(req.run_id, OptionalString(p, "run_id"));
        ASSIGN_OR_RETURN(req.description, OptionalString(p, "description"));
        ASSIGN_OR_RETURN(req.tags, TagsParam(p));
        req.actor = ex.actor;
        // Name the missing model before the registry looks at the blob.
        RETURN_IF_ERROR(api.store()->GetModel(req.model_name).status());
        ASSIGN_OR_RETURN(ModelVersionRecord v, api.registry()->CreateVersion(req));
        api.Changed();
        LogInfo("version registered (mlflow)", {{"model", v.model_name},
                                                {"version", v.version},
                                                {"status", VersionStatusName(v.status)},
                                                {"digest", v.digest}});
        return json::object{{"model_version", VersionJson(v)}};
      });

  add(http::verb::get, "model-versions/get", "MLflow: get a model version",
      [](MlflowApi& api, const json::object& p, Exchange&) -> StatusOr<json::object> {
        ASSIGN_OR_RETURN(std::string name, RequiredString(p, "name"));
        ASSIGN_OR_RETURN(int64_t version, RequiredVersion(p));
        return api.GetVersionJson(name, version);
      });

  MlflowWork search_versions = [](MlflowApi& api, const json::object& p,
                                  Exchange&) -> StatusOr<json::object> {
    ASSIGN_OR_RETURN(std::string filter, OptionalString(p, "filter"));
    ASSIGN_OR_RETURN(int64_t max, MaxResults(p, kVersionsDefaultMax, kVersionsMaxMax));
    ASSIGN_OR_RETURN(std::string token, OptionalString(p, "page_token"));
    RETURN_IF_ERROR(CheckOrderBy(p, {"name", "name asc", "version_number desc"},
                                 "versions ordered by name, then version newest first"));
    const std::set<std::string> attributes = {"name", "run_id", "version_number", "tags"};
    ASSIGN_OR_RETURN(auto conditions, FilterParser(filter, attributes).Parse());
    std::vector<ModelVersionRecord> found;
    auto collect = [&](ModelVersionRecord& v) {
      if (VersionMatches(conditions, v)) found.push_back(std::move(v));
      return static_cast<int64_t>(found.size()) <= max;
    };
    std::string after_model;
    bool more = true;
    if (!token.empty()) {
      ASSIGN_OR_RETURN(auto cursor, ParseVersionPageToken(token));
      after_model = cursor.first;
      if (NameMatches(conditions, cursor.first)) {
        ASSIGN_OR_RETURN(more, api.ScanVersions(cursor.first, cursor.second, collect));
      }
    }
    Status scan_error;
    if (more) {
      RETURN_IF_ERROR(api.ScanModels(
          ExactName(conditions), NameSubstring(conditions), after_model,
          [&](RegisteredModel& m) {
            if (!NameMatches(conditions, m.name)) return true;
            auto finished = api.ScanVersions(m.name, 0, collect);
            if (!finished.ok()) scan_error = finished.status();
            return finished.ok() && *finished;
          }));
    }
    RETURN_IF_ERROR(scan_error);
    json::object out;
    if (static_cast<int64_t>(found.size()) > max) {
      found.resize(static_cast<size_t>(max));
      out["next_page_token"] = VersionPageToken(found.back());
    }
    json::array versions;
    for (const auto& v : found) versions.push_back(VersionJson(v));
    out["model_versions"] = std::move(versions);
    return out;
  };
  add(http::verb::get, "model-versions/search",
      "MLflow: search model versions (filter on name, run_id, version_number and tags)",
      search_versions);
  add(http::verb::post, "model-versions/search", "MLflow: search model versions",
      search_versions);

  add(http::verb::patch, "model-versions/update", "MLflow: update a version's description",
      [](MlflowApi& api, const json::object& p, Exchange&) -> StatusOr<json::object> {
        ASSIGN_OR_RETURN(std::string name, RequiredString(p, "name"));
        ASSIGN_OR_RETURN(int64_t version, RequiredVersion(p));
        ASSIGN_OR_RETURN(std::string description, OptionalString(p, "description"));
        if (p.contains("description")) {
          RETURN_IF_ERROR(api.store()->UpdateVersion(name, version, description));
          api.Changed();
        }
        return api.GetVersionJson(name, version);
      });

  add(http::verb::delete_, "model-versions/delete",
      "MLflow: delete a version (refused while an alias points at it)",
      [](MlflowApi& api, const json::object& p, Exchange&) -> StatusOr<json::object> {
        ASSIGN_OR_RETURN(std::string name, RequiredString(p, "name"));
        ASSIGN_OR_RETURN(int64_t version, RequiredVersion(p));
        RETURN_IF_ERROR(api.store()->DeleteVersion(name, version));
        api.Changed();
        return json::object{};
      });

  add(http::verb::post, "model-versions/set-tag", "MLflow: set a model version tag",
      [](MlflowApi& api, const json::object& p, Exchange&) -> StatusOr<json::object> {
        ASSIGN_OR_RETURN(std::string name, RequiredString(p, "name"));
        ASSIGN_OR_RETURN(int64_t version, RequiredVersion(p));
        ASSIGN_OR_RETURN(std::string key, RequiredString(p, "key"));
        ASSIGN_OR_RETURN(std::string value, OptionalString(p, "value"));
        RETURN_IF_ERROR(api.store()->SetVersionTag(name, version, key, value));
        api.Changed();
        return json::object{};
      });

  add(http::verb::delete_, "model-versions/delete-tag", "MLflow: delete a model version tag",
      [](MlflowApi& api, const json::object& p, Exchange&) -> StatusOr<json::object> {
        ASSIGN_OR_RETURN(std::string name, RequiredString(p, "name"));
        ASSIGN_OR_RETURN(int64_t version, RequiredVersion(p));
        ASSIGN_OR_RETURN(std::string key, RequiredString(p, "key"));
        RETURN_IF_ERROR(api.store()->DeleteVersionTag(name, version, key));
        api.Changed();
        return json::object{};
      });

  add(http::verb::get, "model-versions/get-download-uri",
      "MLflow: where a version's artifact is (mast-blob:sha256:...)",
      [](MlflowApi& api, const json::object& p, Exchange&) -> StatusOr<json::object> {
        ASSIGN_OR_RETURN(std::string name, RequiredString(p, "name"));
        ASSIGN_OR_RETURN(int64_t version, RequiredVersion(p));
        ASSIGN_OR_RETURN(ModelVersionRecord v, api.store()->GetVersion(name, version));
        return json::object{{"artifact_uri", SourceUri(v.digest)}};
      });

  not_implemented(http::verb::post, "model-versions/transition-stage",
                  "MLflow: transition a version's stage (not supported: 501)",
                  "mast has no model version stages: point an alias at the version instead "
                  "(POST /api/2.0/mlflow/registered-models/alias)");
}

}  // namespace mast
