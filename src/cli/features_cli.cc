#include "cli/features_cli.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "cli/api_client.h"
#include "cli/cli_common.h"
#include "cli/csv.h"
#include "cli/feature_applier.h"
#include "registry/registry.h"

namespace mast {

namespace json = boost::json;

namespace {

constexpr const char* kDefaultAlias = "production";

struct ApplyOptions {
  std::string server = "http://127.0.0.1:8000";  // --server / MAST_SERVER
  std::string model;                             // --model NAME[@ALIAS|@N]
  std::string input;                             // file, or "-" for stdin
  std::string output = "-";                      // file, or "-" for stdout
  std::string format;                            // csv | jsonl; empty: by extension
  bool skip_invalid = false;                     // write the valid rows, exit 0
};

struct State {
  ApplyOptions apply;
  CLI::App* apply_cmd = nullptr;
};

State& S() {
  static State state;
  return state;
}

int UsageError(const std::string& message) {
  std::cerr << "mast: " << message << "\n";
  return 2;
}

enum class InputFormat { kCsv, kJsonLines };

// The input format from --format or the file name; nullopt if neither says.
std::optional<InputFormat> FormatOf(const ApplyOptions& o) {
  std::string f = o.format;
  if (f.empty() && o.input != "-") {
    f = std::filesystem::path(o.input).extension().string();
    if (!f.empty()) f.erase(0, 1);
    for (char& c : f) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (f == "csv") return InputFormat::kCsv;
  if (f == "jsonl" || f == "ndjson") return InputFormat::kJsonLines;
  return std::nullopt;
}

// The version `ref` names, as the registry API gives it (with "manifest" and
// "signature"). Errors: the server's (unknown model, alias or version), or
// kFailedPrecondition if the version is not READY.
StatusOr<json::object> FetchVersion(const ApiClient& client, const ModelRef& ref) {
  const std::string model = "/api/v1/models/" + UrlEncode(ref.name);
  int64_t version = ref.version;
  if (ref.alias == "latest") {
    ASSIGN_OR_RETURN(ApiResponse m, client.Call("GET", model));
    const json::object* o = m.json.if_object();
    const json::value* latest = o ? o->if_contains("latest_version") : nullptr;
    if (latest == nullptr || !latest->is_int64()) {
      return NotFound("model '" + ref.name + "' has no versions");
    }
    version = latest->get_int64();
  }
  StatusOr<ApiResponse> got =
      version > 0 ? client.Call("GET", model + "/versions/" + std::to_string(version))
                  : client.Call("GET", model + "/aliases/" + UrlEncode(ref.alias));
  if (!got.ok() && got.status().code() == StatusCode::kNotFound && version == 0) {
    // "has no alias" also for a model that does not exist: say which.
    RETURN_IF_ERROR(client.Call("GET", model).status());
  }
  if (!got.ok()) return got.status();
  if (!got->json.is_object()) return Internal("the server's answer is not a JSON object");
  json::object v = std::move(got->json.as_object());
  const json::value* status = v.if_contains("status");
  if (status == nullptr || !status->is_string() || status->get_string() != "READY") {
    std::string reason;
    if (const json::value* m = v.if_contains("status_message"); m && m->is_string()) {
      reason = ": " + std::string(m->get_string());
    }
    return FailedPrecondition(
        "model '" + ref.name + "' version " + json::serialize(v["version"]) + " is " +
        (status && status->is_string() ? std::string(status->get_string()) : "not READY") + reason +
        "; only READY versions have a feature mapping");
  }
  return v;
}

// Builds the applier of the version `ref` names; `described` is set to
// e.g. "churn version 3".
StatusOr<std::unique_ptr<FeatureApplier>> ApplierFor(const ApplyOptions& o, const ModelRef& ref,
                                                     std::string* described) {
  ASSIGN_OR_RETURN(ApiClient client, ClientFor(o.server));
  ASSIGN_OR_RETURN(json::object v, FetchVersion(client, ref));
  *described = ref.name + " version " + json::serialize(v["version"]);
  const json::value* sig = v.if_contains("signature");
  if (sig == nullptr) return FailedPrecondition(*described + " has no recorded signature");
  ASSIGN_OR_RETURN(ModelSignature signature, ParseSignatureJson(*sig));
  std::string manifest;
  if (const json::value* m = v.if_contains("manifest"); m && m->is_string()) {
    manifest = std::string(m->get_string());
  }
  return FeatureApplier::Create(signature, manifest, *described + " model.yaml");
}

// Shows a row count on a terminal while a long input is read.
class Progress {
 public:
  Progress() : enabled_(isatty(STDERR_FILENO) != 0) {}

  void Tick(int64_t rows) {
    if (!enabled_ || rows % 4096 != 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    std::cerr << "\r" << rows << " rows..." << std::flush;
    shown_ = true;
  }
  // Erases the count (before other output on stderr).
  void Clear() {
    if (shown_) std::cerr << "\r\033[K" << std::flush;
    shown_ = false;
  }
  bool enabled() const { return enabled_; }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// "field 'age'" from a FastAPI-style loc ["body", "age"]; empty for the row.
std::string FieldOf(const json::array& loc) {
  std::string field;
  for (size_t i = 1; i < loc.size(); ++i) {
    if (!field.empty()) field += ".";
    field += loc[i].is_string() ? std::string(loc[i].get_string()) : json::serialize(loc[i]);
  }
  return field.empty() ? "" : "field '" + field + "'";
}

// Reads the input row by row, applies the spec and writes the output.
class ApplyRun {
 public:
  ApplyRun(const FeatureApplier* applier, std::ostream* out) : applier_(applier), out_(out) {}

  void WriteHeader() { *out_ << CsvLine(applier_->columns()) << "\n"; }

  // One input row: `row` as parsed, or `problem` if it could not be.
  void Row(const json::value& row, int64_t line, const std::string& problem = "") {
    ++rows_;
    progress_.Tick(rows_);
    errors_.clear();
    if (problem.empty()) {
      buffer_.clear();
      if (applier_->Apply(row, &buffer_, &errors_)) {
        buffer_.push_back('\n');
        out_->write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
        ++written_;
        return;
      }
    } else {
      errors_.push_back({json::array{"body"}, problem, ""});
    }
    ++invalid_;
    progress_.Clear();
    for (const auto& e : errors_) {
      const std::string field = FieldOf(e.loc);
      std::cerr << "mast: row " << rows_ << " (line " << line << ")"
                << (field.empty() ? "" : ", " + field) << ": " << e.msg << "\n";
    }
  }

  Status ReadCsv(std::istream* in) {
    CsvReader reader(in);
    CsvRecord header;
    ASSIGN_OR_RETURN(bool any, reader.Next(&header));
    if (!any) return InvalidArgument("the input is empty; a CSV needs a header line");
    for (size_t i = 0; i < header.cells.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (header.cells[i] == header.cells[j]) {
          return InvalidArgument("the CSV header names column '" + header.cells[i] + "' twice");
        }
      }
    }
    if (auto missing = applier_->MissingRequired(header.cells); !missing.empty()) {
      std::string names;
      for (const auto& m : missing) names += (names.empty() ? "'" : ", '") + m + "'";
      return InvalidArgument("the CSV header has no column for the required feature" +
                             std::string(missing.size() > 1 ? "s " : " ") + names +
                             " (no default or impute)");
    }
    WriteHeader();
    CsvRecord record;
    for (;;) {
      ASSIGN_OR_RETURN(bool more, reader.Next(&record));
      if (!more) break;
      if (record.cells.size() != header.cells.size()) {
        Row(nullptr, record.line,
            "the row has " + std::to_string(record.cells.size()) + " cells but the header has " +
                std::to_string(header.cells.size()));
        continue;
      }
      Row(applier_->RowFromCsv(header.cells, record.cells), record.line);
    }
    return OkStatus();
  }

  Status ReadJsonLines(std::istream* in) {
    WriteHeader();
    std::string text;
    int64_t line = 0;
    while (std::getline(*in, text)) {
      ++line;
      if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
      boost::system::error_code ec;
      json::value row = json::parse(text, ec);
      if (ec) {
        Row(nullptr, line, "not valid JSON: " + ec.message());
      } else if (!row.is_object()) {
        Row(nullptr, line, "expected a JSON object of named features");
      } else {
        Row(row, line);
      }
    }
    return OkStatus();
  }

  int64_t rows() const { return rows_; }
  int64_t written() const { return written_; }
  int64_t invalid() const { return invalid_; }
  Progress& progress() { return progress_; }

 private:
  const FeatureApplier* applier_;
  std::ostream* out_;
  Progress progress_;
  std::string buffer_;
  std::vector<FieldError> errors_;
  int64_t rows_ = 0;
  int64_t written_ = 0;
  int64_t invalid_ = 0;
};

int Apply() {
  const ApplyOptions& o = S().apply;
  auto ref = ParseModelRef(o.model);
  if (!ref.ok()) return UsageError(ref.status().message());
  const std::optional<InputFormat> format = FormatOf(o);
  if (!format) {
    return UsageError(o.input == "-" ? "reading stdin needs --format csv or --format jsonl"
                                     : "cannot tell the format of '" + o.input +
                                           "' from its name (.csv, .jsonl, .ndjson); "
                                           "give --format csv or --format jsonl");
  }
  std::ifstream file;
  std::istream* in = &std::cin;
  if (o.input != "-") {
    file.open(o.input, std::ios::binary);
    if (!file) return Fail(NotFound("cannot read '" + o.input + "'"));
    in = &file;
  }

  std::string described;
  auto applier = ApplierFor(o, *ref, &described);
  if (!applier.ok()) return Fail(applier.status());

  // A file is written under a temporary name and renamed once every row is
  // done, so a failed run never leaves a partial OUTPUT.
  const bool to_stdout = o.output == "-";
  const std::string partial = o.output + ".partial-" + std::to_string(::getpid());
  std::ofstream file_out;
  if (!to_stdout) {
    file_out.open(partial, std::ios::binary | std::ios::trunc);
    if (!file_out) return Fail(Unavailable("cannot write '" + o.output + "'"));
  }
  std::ostream* out = to_stdout ? &std::cout : &file_out;
  auto discard = [&] {
    if (to_stdout) return;
    file_out.close();
    std::error_code ec;
    std::filesystem::remove(partial, ec);
  };

  ApplyRun run(applier->get(), out);
  Status read = *format == InputFormat::kCsv ? run.ReadCsv(in) : run.ReadJsonLines(in);
  run.progress().Clear();
  if (!read.ok()) {
    discard();
    return Fail(Status(read.code(), (o.input == "-" ? "stdin" : o.input) + ": " + read.message()));
  }
  if (in->bad()) {
    discard();
    return Fail(Unavailable("reading '" + o.input + "' failed"));
  }
  out->flush();
  if (!*out) {
    discard();
    return Fail(Unavailable("writing '" + o.output + "' failed"));
  }
  if (run.invalid() > 0 && !o.skip_invalid) {
    discard();
    std::cerr << "mast: " << run.invalid() << " of " << run.rows() << " rows are invalid; "
              << (to_stdout ? "the valid ones went to stdout" : "nothing written to " + o.output)
              << "; --skip-invalid writes the valid rows\n";
    return 1;
  }
  if (!to_stdout) {
    file_out.close();
    std::error_code ec;
    std::filesystem::rename(partial, o.output, ec);
    if (ec) {
      discard();
      return Fail(Unavailable("cannot write '" + o.output + "': " + ec.message()));
    }
  }
  if (run.invalid() > 0) {
    std::cerr << "mast: skipped " << run.invalid() << " invalid rows of " << run.rows()
              << "; wrote " << run.written() << "\n";
  } else if (run.progress().enabled()) {
    std::cerr << "mast: " << run.written() << " rows, " << (*applier)->columns().size()
              << " columns of " << described << (to_stdout ? "" : " written to " + o.output)
              << "\n";
  }
  return 0;
}

}  // namespace

StatusOr<ModelRef> ParseModelRef(std::string_view text) {
  ModelRef ref;
  const size_t at = text.rfind('@');
  ref.name = std::string(text.substr(0, at));
  if (ref.name.empty()) {
    return InvalidArgument("--model needs a model name: NAME, NAME@ALIAS or NAME@VERSION");
  }
  if (at == std::string_view::npos) {
    ref.alias = kDefaultAlias;
    return ref;
  }
  const std::string_view after = text.substr(at + 1);
  if (after.empty()) {
    return InvalidArgument("--model '" + std::string(text) +
                           "' ends in '@': give an alias or a version number after it");
  }
  if (after.find_first_not_of("0123456789") == std::string_view::npos) {
    if (after.size() > 18 || std::stoll(std::string(after)) <= 0) {
      return InvalidArgument("--model '" + std::string(text) + "': no such version number");
    }
    ref.version = std::stoll(std::string(after));
    return ref;
  }
  ref.alias = std::string(after);
  return ref;
}

void AddFeatureCommands(CLI::App* app) {
  State& s = S();
  CLI::App* features = app->add_subcommand("features", "Apply a model's feature spec offline");
  features->require_subcommand(1);

  s.apply_cmd = features->add_subcommand(
      "apply", "Write the model input values the server computes for each row of a file");
  s.apply_cmd
      ->add_option("--model", s.apply.model,
                   "NAME (its production alias), NAME@ALIAS, NAME@VERSION or NAME@latest")
      ->required();
  s.apply_cmd
      ->add_option("INPUT", s.apply.input,
                   "Rows: CSV with a header (.csv) or JSON Lines (.jsonl, .ndjson); - for stdin")
      ->required();
  s.apply_cmd->add_option("-o,--output", s.apply.output, "CSV to write (- for stdout)")
      ->capture_default_str();
  s.apply_cmd->add_option("--format", s.apply.format, "Input format (default: by extension)")
      ->check(CLI::IsMember({"csv", "jsonl", "ndjson"}));
  s.apply_cmd->add_flag("--skip-invalid", s.apply.skip_invalid,
                        "Write the valid rows and count the invalid ones (exit 0)");
  AddServerOption(s.apply_cmd, &s.apply.server);
}

int RunFeatureCommands() {
  State& s = S();
  if (s.apply_cmd != nullptr && s.apply_cmd->parsed()) return Apply();
  return -1;
}

}  // namespace mast
