#include "predlog/prediction_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "common/logging.h"
#include "fixture_util.h"
#include "predlog/prediction_reader.h"

namespace mast {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

using testing::TempDir;

std::shared_ptr<ModelVersion> Model(const std::string& name = "churn",
                                    const std::string& version = "3") {
  auto m = std::make_shared<ModelVersion>();
  m->name = name;
  m->version = version;
  FeatureSpec age;
  age.name = "age";
  FeatureSpec email;
  email.name = "email";
  email.type = FeatureType::kString;
  email.pii = PiiPolicy::kHash;
  FeatureSpec ssn;
  ssn.name = "ssn";
  ssn.type = FeatureType::kString;
  ssn.pii = PiiPolicy::kDrop;
  m->manifest.features = {age, email, ssn};
  return m;
}

// A registry per log (a family is registered once per registry), kept until
// the tests end.
MetricsRegistry* Fresh() {
  static std::vector<std::unique_ptr<MetricsRegistry>> registries;
  registries.push_back(std::make_unique<MetricsRegistry>());
  return registries.back().get();
}

PredictionLogOptions Options(const std::string& dir) {
  PredictionLogOptions o;
  o.dir = dir;
  o.pii_key = "test-key";
  o.flush_interval = std::chrono::milliseconds(10);
  return o;
}

PredictionEvent ClassicEvent(std::shared_ptr<const ModelVersion> model, const std::string& id,
                             json::value body, json::value prediction) {
  PredictionEvent e;
  e.endpoint = PredictionEvent::kPredict;
  e.request_id = id;
  e.time = std::chrono::system_clock::now();
  e.model = std::move(model);
  e.rows = body.is_array() ? static_cast<int64_t>(body.as_array().size()) : 1;
  e.inputs = std::move(body);
  e.outputs = json::object{{"prediction", std::move(prediction)}};
  e.latency_ms = 0.25;
  return e;
}

std::vector<json::object> ReadAll(const std::string& dir, PredictionQuery q = {},
                                  int64_t* skipped = nullptr) {
  PredictionReader reader(dir, std::move(q));
  std::string text;
  for (;;) {
    auto more = reader.ReadSome(&text, 100);
    EXPECT_TRUE(more.ok()) << more.status().message();
    if (!more.ok() || !*more) break;
  }
  if (skipped) *skipped = reader.skipped();
  std::vector<json::object> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) rows.push_back(json::parse(line).as_object());
  return rows;
}

std::string AllSegmentText(const std::string& dir) {
  std::string all;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path());
    all += std::string(std::istreambuf_iterator<char>(in), {});
  }
  return all;
}

TEST(PredictionLogTest, WritesOneLinePerRowWithPiiHashedOrDropped) {
  TempDir dir;
  auto log = PredictionLog::Open(Options(dir.path()), Fresh());
  ASSERT_TRUE(log.ok()) << log.status().message();
  json::value body = json::parse(
      R"([{"age": 41, "email": "ana@example.com", "ssn": "123-45-6789", "extra": "secret"},
          {"age": 7, "email": "bo@example.com", "ssn": "987-65-4321"}])");
  (*log)->Append(ClassicEvent(Model(), "req-1", body, json::array{1, 0}));
  (*log)->Flush();

  const auto rows = ReadAll(dir.path());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("request_id"), "req-1");
  EXPECT_EQ(rows[0].at("model"), "churn");
  EXPECT_EQ(rows[0].at("version"), "3");
  EXPECT_EQ(rows[0].at("endpoint"), "predict");
  EXPECT_EQ(rows[1].at("row"), 1);
  EXPECT_EQ(rows[0].at("inputs").at("age"), 41);
  EXPECT_EQ(rows[1].at("outputs").at("prediction"), 0);
  EXPECT_EQ(rows[0].at("latency_ms").to_number<double>(), 0.25);
  EXPECT_TRUE(ParseRfc3339(std::string(rows[0].at("time").as_string())).ok());
  // Hashed: stable for one value, different for another; dropped: absent;
  // undeclared: never logged.
  const json::object& in0 = rows[0].at("inputs").as_object();
  const std::string hash = std::string(in0.at("email").as_string());
  EXPECT_EQ(hash.rfind("hmac-sha256:", 0), 0u) << hash;
  EXPECT_EQ(hash.size(), 12u + 32u);
  EXPECT_NE(rows[1].at("inputs").at("email"), in0.at("email"));
  EXPECT_FALSE(in0.contains("ssn"));
  EXPECT_FALSE(in0.contains("extra"));

  (*log)->Append(ClassicEvent(Model(), "req-2", json::parse(R"({"age": 1, "email": "ana@example.com"})"),
                              json::array{1}));
  (*log)->Flush();
  const auto again = ReadAll(dir.path());
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[2].at("inputs").at("email").as_string(), hash);

  const std::string all = AllSegmentText(dir.path());
  for (const char* raw : {"ana@example.com", "bo@example.com", "123-45-6789", "secret"}) {
    EXPECT_EQ(all.find(raw), std::string::npos) << raw;
  }
}

TEST(PredictionLogTest, TheHashDependsOnTheKey) {
  PredictionLogOptions a = Options("/nonexistent");
  PredictionLogOptions b = a;
  b.pii_key = "another-key";
  TempDir d1, d2;
  a.dir = d1.path();
  b.dir = d2.path();
  auto la = PredictionLog::Open(a, Fresh());
  auto lb = PredictionLog::Open(b, Fresh());
  ASSERT_TRUE(la.ok() && lb.ok());
  auto e = ClassicEvent(Model(), "r", json::parse(R"({"email": "x@y.z"})"), json::array{1});
  EXPECT_NE((*la)->FormatRow(e, 0), (*lb)->FormatRow(e, 0));
}

TEST(PredictionLogTest, OipTensorsSplitIntoRowsAndPiiTensorsAreRedacted) {
  TempDir dir;
  auto log = PredictionLog::Open(Options(dir.path()), Fresh());
  ASSERT_TRUE(log.ok());
  PredictionEvent e;
  e.endpoint = PredictionEvent::kInfer;
  e.request_id = "oip-1";
  e.time = std::chrono::system_clock::now();
  e.model = Model();
  e.rows = 2;
  e.inputs = json::parse(R"([
      {"name": "age", "shape": [2], "datatype": "FP32", "data": [30, 40]},
      {"name": "email", "shape": [2], "datatype": "BYTES", "data": ["a@b.c", "d@e.f"]},
      {"name": "matrix", "shape": [2, 2], "datatype": "FP32", "data": [[1, 2], [3, 4]]}])");
  e.outputs = json::parse(R"([{"name": "label", "shape": [2], "datatype": "INT64", "data": [1, 0]},
      {"name": "p", "shape": [2, 2], "datatype": "FP32", "data": [0.1, 0.9, 0.8, 0.2]}])");
  (*log)->Append(std::move(e));
  (*log)->Flush();
  const auto rows = ReadAll(dir.path());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].at("endpoint"), "infer");
  EXPECT_EQ(rows[1].at("inputs").at("age"), 40);
  EXPECT_EQ(rows[1].at("outputs").at("label"), 0);
  EXPECT_EQ(rows[1].at("outputs").at("p"), (json::array{0.8, 0.2}));
  EXPECT_EQ(rows[0].at("inputs").at("email").as_string().find("hmac-sha256:"), 0u);
  // A tensor not named after a feature may hold PII columns: the manifest's
  // strictest policy (drop) applies.
  EXPECT_FALSE(rows[0].at("inputs").as_object().contains("matrix"));
  EXPECT_EQ(AllSegmentText(dir.path()).find("a@b.c"), std::string::npos);
}

TEST(PredictionLogTest, SampleRateZeroWritesNothingAndCounts) {
  TempDir dir;
  MetricsRegistry metrics;
  PredictionLogOptions o = Options(dir.path());
  o.sample_rate = 0;
  auto log = PredictionLog::Open(o, &metrics);
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 10; ++i) {
    (*log)->Append(ClassicEvent(Model(), "r", json::parse(R"({"age": 1})"), json::array{1}));
  }
  (*log)->Flush();
  EXPECT_TRUE(ReadAll(dir.path()).empty());
  EXPECT_NE(metrics.Render().find("mast_prediction_log_rows_total{outcome=\"sampled_out\"} 10"),
            std::string::npos)
      << metrics.Render();
}

TEST(PredictionLogTest, HalfSampleRateWritesAboutHalf) {
  TempDir dir;
  PredictionLogOptions o = Options(dir.path());
  o.sample_rate = 0.5;
  auto log = PredictionLog::Open(o, Fresh());
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 2000; ++i) {
    (*log)->Append(ClassicEvent(Model(), "r", json::parse(R"({"age": 1})"), json::array{1}));
  }
  (*log)->Flush();
  const size_t n = ReadAll(dir.path()).size();
  EXPECT_GT(n, 800u);
  EXPECT_LT(n, 1200u);
}

TEST(PredictionLogTest, AFullQueueDropsAndCountsInsteadOfWaiting) {
  TempDir dir;
  MetricsRegistry metrics;
  PredictionLogOptions o = Options(dir.path());
  o.queue_max_bytes = 1;  // nothing fits
  auto log = PredictionLog::Open(o, &metrics);
  ASSERT_TRUE(log.ok());
  (*log)->Append(ClassicEvent(Model(), "r", json::parse(R"([{"age": 1}, {"age": 2}])"),
                              json::array{1, 1}));
  (*log)->Flush();
  EXPECT_TRUE(ReadAll(dir.path()).empty());
  EXPECT_NE(metrics.Render().find("mast_prediction_log_rows_total{outcome=\"dropped\"} 2"),
            std::string::npos);
}

TEST(PredictionLogTest, SegmentsRotateBySizeAndRetentionDeletesTheOldest) {
  TempDir dir;
  PredictionLogOptions o = Options(dir.path());
  o.segment_max_bytes = 2000;
  o.retention_bytes = 6000;
  auto log = PredictionLog::Open(o, Fresh());
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 200; ++i) {
    (*log)->Append(ClassicEvent(Model(), "r" + std::to_string(i),
                                json::parse(R"({"age": 1})"), json::array{1}));
    (*log)->Flush();  // one write per event, so segments fill one by one
  }
  int segments = 0;
  uint64_t total = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    ++segments;
    total += e.file_size();
    EXPECT_LE(e.file_size(), 2000u) << e.path();
  }
  EXPECT_GE(segments, 3);
  EXPECT_LE(total, 6000u + 2000u);
  // What is left reads in order and ends with the newest row.
  const auto rows = ReadAll(dir.path());
  ASSERT_FALSE(rows.empty());
  EXPECT_LT(rows.size(), 200u);
  EXPECT_EQ(rows.back().at("request_id"), "r199");
  for (size_t i = 1; i < rows.size(); ++i) {
    const int a = std::stoi(std::string(rows[i - 1].at("request_id").as_string()).substr(1));
    const int b = std::stoi(std::string(rows[i].at("request_id").as_string()).substr(1));
    EXPECT_EQ(b, a + 1);
  }
}

TEST(PredictionLogTest, ANewProcessStartsANewSegment) {
  TempDir dir;
  for (int i = 0; i < 2; ++i) {
    auto log = PredictionLog::Open(Options(dir.path()), Fresh());
    ASSERT_TRUE(log.ok());
    (*log)->Append(ClassicEvent(Model(), "r", json::parse(R"({"age": 1})"), json::array{1}));
  }  // the destructor writes what is queued
  int segments = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    ++segments;
    (void)e;
  }
  EXPECT_EQ(segments, 2);
  EXPECT_EQ(ReadAll(dir.path()).size(), 2u);
}

TEST(PredictionReaderTest, SkipsATornTailAndGarbageLinesAndFilters) {
  TempDir dir;
  {
    auto log = PredictionLog::Open(Options(dir.path()), Fresh());
    ASSERT_TRUE(log.ok());
    (*log)->Append(ClassicEvent(Model("a", "1"), "a1", json::parse(R"({"age": 1})"),
                                json::array{1}));
    (*log)->Append(ClassicEvent(Model("b", "1"), "b1", json::parse(R"({"age": 2})"),
                                json::array{1}));
    (*log)->Append(ClassicEvent(Model("a", "2"), "a2", json::parse(R"({"age": 3})"),
                                json::array{1}));
  }
  std::string segment;
  for (const auto& e : fs::directory_iterator(dir.path())) segment = e.path().string();
  {
    // A garbage line in the middle of a second segment, and a write cut off
    // by a crash at its end.
    std::ofstream out(dir.path() + "/29990101T000000.000Z-1-1.jsonl");
    out << "not json\n";
    std::ifstream in(segment);
    std::string first;
    std::getline(in, first);
    out << first << "\n";
    out << first.substr(0, first.size() / 2);
  }
  int64_t skipped = 0;
  auto rows = ReadAll(dir.path(), {}, &skipped);
  EXPECT_EQ(rows.size(), 4u);
  EXPECT_EQ(skipped, 2);

  PredictionQuery by_model;
  by_model.model = "a";
  EXPECT_EQ(ReadAll(dir.path(), by_model).size(), 3u);
  by_model.version = "2";
  rows = ReadAll(dir.path(), by_model);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("request_id"), "a2");

  PredictionQuery limited;
  limited.limit = 2;
  EXPECT_EQ(ReadAll(dir.path(), limited).size(), 2u);

  PredictionQuery future;
  future.since = std::chrono::system_clock::now() + std::chrono::hours(1);
  EXPECT_TRUE(ReadAll(dir.path(), future).empty());
  PredictionQuery past;
  past.until = std::chrono::system_clock::now() - std::chrono::hours(1);
  EXPECT_TRUE(ReadAll(dir.path(), past).empty());
  PredictionQuery window;
  window.since = std::chrono::system_clock::now() - std::chrono::hours(1);
  window.until = std::chrono::system_clock::now() + std::chrono::hours(1);
  EXPECT_EQ(ReadAll(dir.path(), window).size(), 4u);
}

TEST(PiiKeyTest, CreatedOnceWithOwnerOnlyPermissions) {
  TempDir dir;
  const std::string path = dir.path() + "/sub/pii.key";
  auto first = LoadOrCreatePiiKey(path);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto second = LoadOrCreatePiiKey(path);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  TempDir other;
  EXPECT_NE(*LoadOrCreatePiiKey(other.path() + "/pii.key"), *first);
}

TEST(Rfc3339Test, ParsesUtcOffsetsAndFractions) {
  auto t = ParseRfc3339("2026-11-26T20:11:00Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Rfc3339(*t), "2026-11-26T20:11:00.000Z");
  EXPECT_EQ(Rfc3339(*ParseRfc3339("2026-11-26T21:11:00.250+01:00")), "2026-11-26T20:11:00.250Z");
  EXPECT_EQ(Rfc3339(*ParseRfc3339("2026-11-26 15:11:00-05:00")), "2026-11-26T20:11:00.000Z");
  for (const char* bad : {"", "2026-11-26", "2026-11-26T20:11:00", "2026-13-01T00:00:00Z",
                          "2026-11-26T20:11:00Zjunk", "yesterday", "2026-11-26T20:11:00.Z",
                          "9999-01-01T00:00:00Z"}) {
    auto p = ParseRfc3339(bad);
    EXPECT_FALSE(p.ok()) << bad;
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace mast
