// `mast features apply` against a real server: for the same rows, the CSV it
// writes holds exactly (as float32) what /predict feeds the model. The model
// is the Identity fixture, so /predict's "prediction" is the model input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "e2e/e2e_util.h"
#include "e2e/http_client.h"

namespace mast_e2e {
namespace {

// Every transform, defaults and impute, in a 14-column matrix.
constexpr const char* kManifest = R"(unknown_fields: ignore
features:
  - name: income
    type: float
    transforms:
      - impute: {strategy: mean, value: 50848.3}
      - standardize: {mean: 50848.3, std: 12317.1}
  - {name: age, type: float, min: 0, max: 120, transforms: [{min_max: {min: 18, max: 90}}]}
  - {name: visits, type: int, default: 0, transforms: [{clip: {min: 0, max: 140}}, {log1p: {}}]}
  - {name: age_band, type: float, transforms: [{bucketize: {boundaries: [30, 45, 60]}}]}
  - {name: plan, type: string, transforms: [{one_hot: {categories: [basic, pro], unknown: other}}]}
  - name: city
    type: string
    default: oslo
    transforms: [{ordinal: {categories: [oslo, rome, paris], unknown: other}}]
  - {name: device, type: string, transforms: [{hash: {buckets: 4}}]}
  - {name: active, type: bool, default: false}
  - {name: score, type: float}
)";

const std::vector<std::string> kColumns = {
    "income", "age",      "visits",   "age_band", "plan=basic", "plan=pro", "plan=<other>",
    "city",   "device#0", "device#1", "device#2", "device#3",   "active",   "score"};

const std::vector<std::string> kHeader = {"income", "age",    "visits", "age_band", "plan",
                                          "city",   "device", "active", "score"};
// Cells as written in the CSV; the same text goes into the JSON rows (an
// empty cell is a missing field).
const std::vector<std::vector<std::string>> kRows = {
    {"53717.2", "47.5", "4", "47.5", "basic", "oslo", "android", "true", "0.1"},
    {"", "18", "", "29.999", "pro", "rome", "ios", "false", "-3.25e-3"},
    {"39978.91", "120", "250", "60", "team", "paris", "web", "1", "1e-7"},
    {"1e5", "0", "0", "30", "basic", "", "tablet, 10in", "0", "123456789"},
    {"-12.5", "33.3333333333", "140", "45", "pro", "vienna", "android", "True", "-0"},
    {"50848.3", "90.0001", "3", "100", "basic", "rome", "ios", "false", "3.4e38"},
};

bool IsText(const std::string& column) {
  return column == "plan" || column == "city" || column == "device";
}

// A row as the JSON object a client sends to /predict.
std::string JsonRow(const std::vector<std::string>& header, const std::vector<std::string>& cells) {
  std::string out = "{";
  for (size_t i = 0; i < header.size(); ++i) {
    if (cells[i].empty()) continue;
    if (out.size() > 1) out += ",";
    out += json::serialize(json::string(header[i])) + ":";
    if (IsText(header[i])) {
      out += json::serialize(json::string(cells[i]));
    } else if (header[i] == "active") {
      const std::string& c = cells[i];
      out += c == "true" || c == "True" || c == "1" ? "true" : "false";
    } else {
      // The number exactly as the CSV has it; other text as a string.
      boost::system::error_code ec;
      const bool number = json::parse(cells[i], ec).is_number() && !ec;
      out += number ? cells[i] : json::serialize(json::string(cells[i]));
    }
  }
  return out + "}";
}

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string CsvText(const std::vector<std::string>& header,
                    const std::vector<std::vector<std::string>>& rows) {
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + CsvCell(cells[i]);
    out += "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out;
}

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream s(line);
  std::string cell;
  while (std::getline(s, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

class FeaturesCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new TempDir();
    work_ = new TempDir();
    server_ = ServerProcess::Start(
                  {"serve", "--port", "0", "--data-dir", data_->str(), "--registry-poll", "0.2"},
                  {{"MAST_ADMIN_TOKEN", "feat-token"}}, &error_)
                  .release();
    if (server_ == nullptr) return;
    env_ = "MAST_SERVER=http://127.0.0.1:" + std::to_string(server_->port()) +
           " MAST_TOKEN=feat-token";
    const std::string manifest = Write("model.yaml", kManifest);
    CliRun push = Cli("models push feat " + FixtureDir("identity") + "/model.onnx --manifest " +
                      manifest + " --alias production");
    if (push.exit_code != 0) {
      error_ = "push failed: " + push.out + push.err;
      return;
    }
    // Serving follows the alias within a poll interval.
    HttpClient client(server_->port());
    const std::string first = "[" + JsonRow(kHeader, kRows[0]) + "]";
    HttpResult r;
    for (int i = 0; i < 100; ++i) {
      r = client.Post("/v1/models/feat/predict", first);
      if (r.status == 200) return;
      std::this_thread::sleep_for(50ms);
    }
    error_ = "feat is not served: " + r.Describe();
  }

  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      auto status = server_->Stop();
      EXPECT_TRUE(ExitedCleanly(status)) << StatusText(status);
    }
    delete server_;
    delete work_;
    delete data_;
    server_ = nullptr;
  }

  void SetUp() override { ASSERT_TRUE(error_.empty()) << error_; }

  static std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (work_->path() / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // Runs `mast <args>` (a shell command line: redirections allowed).
  static CliRun Cli(const std::string& args, const std::string& env = env_) {
    return RunShell(env + " " + kBinary + " " + args, (work_->path() / "stderr.txt").string());
  }

  // The rows /predict feeds the model (the Identity model's output).
  static json::array Predicted(const std::vector<std::vector<std::string>>& rows) {
    std::string body = "[";
    for (size_t r = 0; r < rows.size(); ++r) body += (r ? "," : "") + JsonRow(kHeader, rows[r]);
    body += "]";
    HttpClient client(server_->port());
    HttpResult answer = client.Post("/v1/models/feat/predict", body);
    EXPECT_EQ(answer.status, 200) << answer.Describe();
    if (answer.status != 200) return {};
    return answer.Json().at("prediction").as_array();
  }

  // Checks that `csv` (the CLI's output) holds exactly `predicted`, as float32.
  static void ExpectSameAsServer(const std::string& csv, const json::array& predicted) {
    const auto lines = Lines(csv);
    ASSERT_EQ(lines.size(), predicted.size() + 1) << csv;
    EXPECT_EQ(Split(lines[0]), kColumns);
    for (size_t r = 0; r < predicted.size(); ++r) {
      const auto cells = Split(lines[r + 1]);
      const auto& want = predicted[r].as_array();
      ASSERT_EQ(cells.size(), want.size()) << "row " << r << ": " << lines[r + 1];
      for (size_t c = 0; c < want.size(); ++c) {
        const float served = static_cast<float>(want[c].to_number<double>());
        const float written = std::strtof(cells[c].c_str(), nullptr);
        EXPECT_EQ(std::memcmp(&served, &written, sizeof(float)), 0)
            << "row " << r << " column " << kColumns[c] << ": CLI wrote " << cells[c]
            << ", server fed the model " << json::serialize(want[c]);
      }
    }
  }

  static TempDir* data_;
  static TempDir* work_;
  static ServerProcess* server_;
  static std::string env_;
  static std::string error_;
};

TempDir* FeaturesCliTest::data_ = nullptr;
TempDir* FeaturesCliTest::work_ = nullptr;
ServerProcess* FeaturesCliTest::server_ = nullptr;
std::string FeaturesCliTest::env_;
std::string FeaturesCliTest::error_;

TEST_F(FeaturesCliTest, CsvInputGivesExactlyWhatTheServerFeedsTheModel) {
  const std::string input = Write("rows.csv", CsvText(kHeader, kRows));
  const std::string output = (work_->path() / "features.csv").string();
  CliRun run = Cli("features apply --model feat@production " + input + " -o " + output);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");  // quiet when not on a terminal
  const json::array predicted = Predicted(kRows);
  ASSERT_EQ(predicted.size(), kRows.size());
  const std::string csv = ReadFile(output);
  ExpectSameAsServer(csv, predicted);

  // The transforms did run (so equality is not two identical mistakes).
  const auto lines = Lines(csv);
  EXPECT_EQ(Split(lines[2])[0], "0");                          // income imputed with the mean
  EXPECT_EQ(Split(lines[3])[6], "1");                          // plan 'team' -> other
  EXPECT_EQ(std::strtof(Split(lines[3])[2].c_str(), nullptr),  // visits 250 clipped, log1p
            static_cast<float>(std::log1p(140.0)));
  EXPECT_EQ(Split(lines[4])[7], "0");  // city missing -> default oslo
  EXPECT_EQ(Split(lines[5])[7], "3");  // city unseen -> other
}

TEST_F(FeaturesCliTest, JsonLinesInputFromStdinByVersionNumber) {
  std::string jsonl;
  for (const auto& row : kRows) jsonl += JsonRow(kHeader, row) + "\n";
  jsonl += "\n";  // blank lines are skipped
  const std::string input = Write("rows.jsonl", jsonl);
  CliRun from_file = Cli("features apply --model feat@1 " + input);
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  ExpectSameAsServer(from_file.out, Predicted(kRows));

  CliRun from_stdin = Cli("features apply --model feat - --format jsonl < " + input);
  ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin.err;
  EXPECT_EQ(from_stdin.out, from_file.out);
  CliRun latest = Cli("features apply --model feat@latest --format ndjson - < " + input);
  ASSERT_EQ(latest.exit_code, 0) << latest.err;
  EXPECT_EQ(latest.out, from_file.out);
}

TEST_F(FeaturesCliTest, InvalidRowsAreListedWithTheServersMessages) {
  std::vector<std::vector<std::string>> rows = kRows;
  rows[1][1] = "old";  // age: not a number
  rows[3][1] = "150";  // age > max
  rows[3][6] = "";     // device: missing, no default
  const std::string input =
      Write("bad.csv", CsvText(kHeader, rows) + "1,2,3\n");  // short row: line 8, row 7
  const std::string output = (work_->path() / "bad-features.csv").string();
  CliRun run = Cli("features apply --model feat " + input + " -o " + output);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_FALSE(fs::exists(output)) << "no output file after invalid rows";

  // The server says the same about the same rows.
  HttpClient client(server_->port());
  HttpResult answer = client.Post("/v1/models/feat/predict", "[" + JsonRow(kHeader, rows[1]) + "," +
                                                                 JsonRow(kHeader, rows[3]) + "]");
  ASSERT_EQ(answer.status, 422) << answer.Describe();
  const json::value answer_json = answer.Json();
  const auto& detail = answer_json.at("detail").as_array();
  ASSERT_EQ(detail.size(), 3u) << answer.body;
  const std::vector<std::string> expected = {
      "mast: row 2 (line 3), field 'age': " + StringField(detail[0], "msg"),
      "mast: row 4 (line 5), field 'age': " + StringField(detail[1], "msg"),
      "mast: row 4 (line 5), field 'device': " + StringField(detail[2], "msg"),
      "mast: row 7 (line 8): the row has 3 cells but the header has 9",
      "mast: 3 of 7 rows are invalid; nothing written to " + output +
          "; --skip-invalid writes the valid rows"};
  EXPECT_EQ(Lines(run.err), expected) << run.err;
  EXPECT_EQ(StringField(detail[0], "msg"), "value is not a valid float");
  EXPECT_EQ(StringField(detail[1], "msg"), "ensure this value is less than or equal to 120");
  EXPECT_EQ(StringField(detail[2], "msg"), "field required");

  CliRun skip = Cli("features apply --model feat " + input + " -o " + output + " --skip-invalid");
  ASSERT_EQ(skip.exit_code, 0) << skip.err;
  EXPECT_NE(skip.err.find("mast: skipped 3 invalid rows of 7; wrote 4"), std::string::npos)
      << skip.err;
  ExpectSameAsServer(ReadFile(output), Predicted({rows[0], rows[2], rows[4], rows[5]}));
}

TEST_F(FeaturesCliTest, CsvWithoutARequiredColumnFailsAtItsHeader) {
  std::vector<std::string> header = kHeader;
  header[1] = "years";  // no 'age' column; 'visits' and 'city' have defaults
  const std::string input = Write("no-age.csv", CsvText(header, kRows));
  CliRun run = Cli("features apply --model feat " + input + " --skip-invalid");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "mast: " + input +
                         ": the CSV header has no column for the required feature 'age' "
                         "(no default or impute)\n");
  EXPECT_EQ(run.out, "");
}

TEST_F(FeaturesCliTest, UnknownModelAliasOrVersionFailsInOneLine) {
  const std::string input = Write("one.csv", CsvText(kHeader, {kRows[0]}));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"nobody", "mast: model 'nobody' does not exist\n"},
      {"nobody@staging", "mast: model 'nobody' does not exist\n"},
      {"feat@staging", "mast: model 'feat' has no alias 'staging'\n"},
      {"feat@9", "mast: model 'feat' has no version 9\n"},
  };
  for (const auto& [model, message] : cases) {
    CliRun run = Cli("features apply --model " + model + " " + input);
    EXPECT_EQ(run.exit_code, 1) << model;
    EXPECT_EQ(run.err, message) << model;
    EXPECT_EQ(run.out, "") << model;
  }
  // A version that failed its test load has no mapping to apply.
  EXPECT_EQ(Cli("models push broken " + FixtureDir("corrupt") + "/model.onnx").exit_code, 1);
  CliRun failed = Cli("features apply --model broken@1 " + input);
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_EQ(failed.err.rfind("mast: model 'broken' version 1 is FAILED: ", 0), 0u) << failed.err;
  EXPECT_EQ(std::count(failed.err.begin(), failed.err.end(), '\n'), 1) << failed.err;

  CliRun down = Cli("features apply --model feat " + input, "MAST_SERVER=http://127.0.0.1:1");
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.err.find("cannot reach"), std::string::npos) << down.err;
}

TEST_F(FeaturesCliTest, UsageErrorsExitTwo) {
  const std::string input = Write("two.csv", CsvText(kHeader, {kRows[0]}));
  const std::string txt = Write("rows.txt", "x");
  EXPECT_EQ(Cli("features apply " + input).exit_code, 2);      // no --model
  EXPECT_EQ(Cli("features apply --model feat").exit_code, 2);  // no INPUT
  EXPECT_EQ(Cli("features apply --model feat " + input + " --format xml").exit_code, 2);
  CliRun unknown_ext = Cli("features apply --model feat " + txt);
  EXPECT_EQ(unknown_ext.exit_code, 2);
  EXPECT_NE(unknown_ext.err.find("--format"), std::string::npos) << unknown_ext.err;
  EXPECT_EQ(Cli("features apply --model feat - < " + input).exit_code, 2);  // stdin: --format
  EXPECT_EQ(Cli("features apply --model @prod " + input).exit_code, 2);
  EXPECT_EQ(Cli("features").exit_code, 2);
}

}  // namespace
}  // namespace mast_e2e
