#include "cli/predictions_cli.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include <boost/json.hpp>

#include "cli/api_client.h"
#include "cli/cli_common.h"
#include "cli/csv.h"
#include "common/json_writer.h"
#include "common/logging.h"

namespace mast {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

struct ExportOptions {
  std::string server = "http://127.0.0.1:8000";
  bool json = false;
  std::string model, version, since, until, format, output = "-";
  int64_t limit = 0;
  CLI::App* export_cmd = nullptr;
};

ExportOptions& O() {
  static ExportOptions options;
  return options;
}

// The text of one CSV cell for a JSON value.
std::string Cell(const json::value& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return std::string(v.as_string());
  return ToJson(v);
}

bool IsScalarList(const json::value& v) {
  if (!v.is_array()) return false;
  for (const auto& e : v.as_array()) {
    if (e.is_array() || e.is_object()) return false;
  }
  return true;
}

// Column name -> cell for one log line, in the line's order.
void Flatten(const json::object& line, std::vector<std::pair<std::string, std::string>>* out) {
  for (const char* key : {"request_id", "time", "model", "version", "endpoint", "row",
                          "latency_ms"}) {
    const json::value* v = line.if_contains(key);
    out->emplace_back(key, v ? Cell(*v) : "");
  }
  for (const auto& [group, prefix] : {std::pair{"inputs", "input."}, {"outputs", "output."}}) {
    const json::value* g = line.if_contains(group);
    if (!g || !g->is_object()) continue;
    for (const auto& kv : g->as_object()) {
      const std::string name = prefix + std::string(kv.key());
      if (IsScalarList(kv.value())) {
        const auto& list = kv.value().as_array();
        for (size_t i = 0; i < list.size(); ++i) {
          out->emplace_back(name + "." + std::to_string(i), Cell(list[i]));
        }
      } else {
        out->emplace_back(name, Cell(kv.value()));
      }
    }
  }
}

// Rewrites the JSON lines in `jsonl` as CSV into `out`.
Status WriteCsv(const std::string& jsonl, std::ostream& out) {
  std::vector<std::string> columns;
  std::map<std::string, size_t> index;
  std::vector<std::pair<std::string, std::string>> cells;
  std::string text;
  for (int pass = 0; pass < 2; ++pass) {
    std::ifstream in(jsonl);
    if (!in) return Internal("cannot read back '" + jsonl + "'");
    if (pass == 1) out << CsvLine(columns) << "\n";
    while (std::getline(in, text)) {
      boost::system::error_code ec;
      json::value v = json::parse(text, ec);
      if (ec || !v.is_object()) continue;
      cells.clear();
      Flatten(v.as_object(), &cells);
      if (pass == 0) {
        for (const auto& [name, cell] : cells) {
          if (index.emplace(name, columns.size()).second) columns.push_back(name);
        }
        continue;
      }
      std::vector<std::string> row(columns.size());
      for (auto& [name, cell] : cells) row[index.at(name)] = std::move(cell);
      out << CsvLine(row) << "\n";
    }
  }
  out.flush();
  if (!out) return Unavailable("writing the CSV failed");
  return OkStatus();
}

std::string QueryString() {
  std::string q;
  auto add = [&](const char* name, const std::string& value) {
    if (value.empty()) return;
    q += q.empty() ? "?" : "&";
    q += std::string(name) + "=" + UrlEncode(value);
  };
  add("model", O().model);
  add("version", O().version);
  add("since", O().since);
  add("until", O().until);
  if (O().limit > 0) add("limit", std::to_string(O().limit));
  return q;
}

int Export() {
  ExportOptions& o = O();
  for (const auto* t : {&o.since, &o.until}) {
    if (!t->empty()) {
      auto parsed = ParseRfc3339(*t);
      if (!parsed.ok()) {
        std::cerr << "mast: " << (t == &o.since ? "--since" : "--until") << ": "
                  << parsed.status().message() << "\n";
        return 2;
      }
    }
  }
  std::string format = o.format;
  if (format.empty()) {
    format = fs::path(o.output).extension() == ".csv" ? "csv" : "jsonl";
  }
  auto client = ClientFor(o.server);
  if (!client.ok()) return Fail(client.status());

  // The answer goes to a file beside the output (or a temporary file for
  // stdout) and becomes the output only once it is complete.
  const bool to_stdout = o.output == "-";
  std::string part;
  if (to_stdout) {
    char tmpl[] = "/tmp/mast-export-XXXXXX";
    int fd = ::mkstemp(tmpl);
    if (fd < 0) return Fail(Unavailable("cannot create a temporary file"));
    ::close(fd);
    part = tmpl;
  } else {
    part = o.output + ".part";
  }
  struct Cleanup {
    std::string path;
    ~Cleanup() {
      std::error_code ec;
      fs::remove(path, ec);
    }
  } cleanup{part};

  int64_t rows = 0;
  {
    std::ofstream jsonl(part, std::ios::binary | std::ios::trunc);
    if (!jsonl) return Fail(Unavailable("cannot write '" + part + "'"));
    Status got = client->Download("/api/v1/predictions" + QueryString(),
                                  [&](std::string_view piece) {
                                    for (char c : piece) rows += c == '\n';
                                    jsonl.write(piece.data(),
                                                static_cast<std::streamsize>(piece.size()));
                                    return jsonl ? OkStatus()
                                                 : Unavailable("writing '" + part + "' failed");
                                  });
    if (!got.ok()) return Fail(got);
    jsonl.close();
    if (!jsonl) return Fail(Unavailable("writing '" + part + "' failed"));
  }

  if (to_stdout) {
    if (format == "csv") {
      Status s = WriteCsv(part, std::cout);
      if (!s.ok()) return Fail(s);
    } else {
      std::ifstream in(part, std::ios::binary);
      std::cout << in.rdbuf();
      std::cout.flush();
    }
    return 0;
  }
  if (format == "csv") {
    const std::string csv_part = o.output + ".csv-part";
    cleanup.path = csv_part;  // the JSONL part is removed below
    {
      std::ofstream csv(csv_part, std::ios::binary | std::ios::trunc);
      if (!csv) return Fail(Unavailable("cannot write '" + csv_part + "'"));
      Status s = WriteCsv(part, csv);
      std::error_code ec;
      fs::remove(part, ec);
      if (!s.ok()) return Fail(s);
    }
    part = csv_part;
  }
  std::error_code ec;
  fs::rename(part, o.output, ec);
  if (ec) return Fail(Unavailable("cannot create '" + o.output + "': " + ec.message()));
  cleanup.path.clear();
  if (o.json) {
    std::cout << ToJson(json::object{{"rows", rows}, {"file", o.output}, {"format", format}})
              << "\n";
  } else {
    std::cout << rows << " rows written to " << o.output << "\n";
  }
  return 0;
}

}  // namespace

void AddPredictionCommands(CLI::App* app) {
  CLI::App* predictions =
      app->add_subcommand("predictions", "The prediction log: scored rows for retraining");
  predictions->require_subcommand(1);
  ExportOptions& o = O();
  CLI::App* e = predictions->add_subcommand(
      "export", "Write logged predictions to a CSV or JSONL file");
  AddServerOption(e, &o.server);
  e->add_flag("--json", o.json, "Print the summary as JSON");
  e->add_option("--model", o.model, "Only this model");
  e->add_option("--version", o.version, "Only this version (with --model)");
  e->add_option("--since", o.since, "From this RFC 3339 time (inclusive)");
  e->add_option("--until", o.until, "Before this RFC 3339 time");
  e->add_option("--limit", o.limit, "At most this many rows")->check(CLI::NonNegativeNumber);
  e->add_option("--format", o.format, "csv or jsonl (default: from the file name, else jsonl)")
      ->check(CLI::IsMember({"csv", "jsonl"}));
  e->add_option("-o,--output", o.output, "Output file ('-' for stdout)")->capture_default_str();
  o.export_cmd = e;
}

int RunPredictionCommands() {
  if (O().export_cmd && O().export_cmd->parsed()) return Export();
  return -1;
}

}  // namespace mast
