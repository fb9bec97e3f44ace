#include "cli/models_cli.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/json.hpp>

#include "backends/backend.h"
#include "cli/api_client.h"
#include "cli/cli_common.h"
#include "common/json_writer.h"
#include "models/model_manager.h"

namespace mast {

namespace json = boost::json;

namespace {

struct CommonOptions {
  std::string server = "http://127.0.0.1:8000";
  bool json = false;
};

struct PushOptions {
  std::string name, file, manifest, run_id, description, format;
  std::vector<std::string> tags, aliases;
};

struct State {
  CommonOptions common;
  PushOptions push;
  std::string name, alias, filter, dir, import_alias = "production";
  int64_t version = 0;
  bool delete_alias = false;
  double min_age = 3600;
  CLI::App* push_cmd = nullptr;
  CLI::App* list_cmd = nullptr;
  CLI::App* show_cmd = nullptr;
  CLI::App* alias_cmd = nullptr;
  CLI::App* delete_cmd = nullptr;
  CLI::App* import_cmd = nullptr;
  CLI::App* gc_cmd = nullptr;
};

State& S() {
  static State state;
  return state;
}

void AddCommon(CLI::App* cmd) {
  AddServerOption(cmd, &S().common.server);
  cmd->add_flag("--json", S().common.json, "Print JSON for scripts");
}

StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read '" + path + "'");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

StatusOr<ApiClient> Client() { return ClientFor(S().common.server); }

std::string Str(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return "";
  return ToJson(v);
}

// Prints rows as an aligned table.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out += std::string(width[i] - r[i].size() + 2, ' ');
    }
    std::cout << out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

void PrintVersion(const json::object& v) {
  if (S().common.json) {
    std::cout << ToJson(v) << "\n";
    return;
  }
  std::string aliases;
  if (const auto* a = v.if_contains("aliases"); a && a->is_array()) {
    for (const auto& x : a->get_array()) aliases += (aliases.empty() ? "" : ",") + Str(x);
  }
  PrintTable({"MODEL", "VERSION", "STATUS", "FORMAT", "ALIASES", "DIGEST"},
             {{Str(v.at("model_name")), Str(v.at("version")), Str(v.at("status")),
               Str(v.at("format")), aliases, Str(v.at("digest")).substr(0, 19)}});
  if (const auto* m = v.if_contains("status_message")) std::cout << "reason: " << Str(*m) << "\n";
}

// Creates the model if needed, uploads the artifact and creates the version.
StatusOr<json::object> PushOne(const ApiClient& c, const PushOptions& p) {
  ASSIGN_OR_RETURN(std::string artifact, ReadWholeFile(p.file));
  std::string manifest;
  std::string manifest_path = p.manifest;
  if (manifest_path.empty()) {
    auto beside = std::filesystem::path(p.file).parent_path() / "model.yaml";
    if (std::filesystem::exists(beside)) manifest_path = beside.string();
  }
  if (!manifest_path.empty()) {
    ASSIGN_OR_RETURN(manifest, ReadWholeFile(manifest_path));
  }
  auto created = c.Call("POST", "/api/v1/models", ToJson(json::object{{"name", p.name}}));
  if (!created.ok() && created.status().code() != StatusCode::kFailedPrecondition) {
    return created.status();  // 409: the model exists already, which is fine
  }
  if (isatty(STDERR_FILENO)) {
    std::cerr << "uploading " << p.file << " (" << artifact.size() << " bytes)...\n";
  }
  ASSIGN_OR_RETURN(ApiResponse blob,
                   c.Call("POST", "/api/v1/blobs", artifact, "application/octet-stream"));
  json::object req{{"digest", blob.json.at("digest")}, {"manifest", manifest},
                   {"run_id", p.run_id}, {"description", p.description}};
  std::string format = p.format.empty() ? std::string(FormatForPath(p.file)) : p.format;
  if (!format.empty()) req["format"] = format;
  json::object tags;
  for (const auto& kv : p.tags) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("--tag must be key=value, got '" + kv + "'");
    }
    tags[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  req["tags"] = std::move(tags);
  json::array aliases;
  for (const auto& a : p.aliases) aliases.push_back(json::string(a));
  req["aliases"] = std::move(aliases);
  ASSIGN_OR_RETURN(ApiResponse v, c.Call("POST", "/api/v1/models/" + UrlEncode(p.name) + "/versions",
                                         ToJson(req)));
  return v.json.as_object();
}

int Push() {
  auto c = Client();
  if (!c.ok()) return Fail(c.status());
  auto v = PushOne(*c, S().push);
  if (!v.ok()) return Fail(v.status());
  PrintVersion(*v);
  return 0;
}

int List() {
  auto c = Client();
  if (!c.ok()) return Fail(c.status());
  json::array all;
  std::string token;
  do {
    std::string target = "/api/v1/models?page_size=1000&filter=" + UrlEncode(S().filter);
    if (!token.empty()) target += "&page_token=" + UrlEncode(token);
    auto r = c->Call("GET", target);
    if (!r.ok()) return Fail(r.status());
    for (const auto& m : r->json.at("items").as_array()) all.push_back(m);
    token = Str(r->json.at("next_page_token"));
  } while (!token.empty());
  if (S().common.json) {
    std::cout << ToJson(all) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : all) {
    const auto& o = m.as_object();
    std::string aliases;
    for (const auto& a : o.at("aliases").as_object()) {
      aliases += (aliases.empty() ? "" : ",") + std::string(a.key()) + "=" + Str(a.value());
    }
    rows.push_back({Str(o.at("name")), o.contains("latest_version") ? Str(o.at("latest_version")) : "-",
                    aliases, Str(o.at("updated_at"))});
  }
  PrintTable({"NAME", "LATEST", "ALIASES", "UPDATED"}, rows);
  return 0;
}

int Show() {
  auto c = Client();
  if (!c.ok()) return Fail(c.status());
  const std::string base = "/api/v1/models/" + UrlEncode(S().name);
  if (S().version > 0) {
    auto r = c->Call("GET", base + "/versions/" + std::to_string(S().version));
    if (!r.ok()) return Fail(r.status());
    PrintVersion(r->json.as_object());
    return 0;
  }
  auto m = c->Call("GET", base);
  if (!m.ok()) return Fail(m.status());
  auto vs = c->Call("GET", base + "/versions?page_size=1000");
  if (!vs.ok()) return Fail(vs.status());
  if (S().common.json) {
    json::object out = m->json.as_object();
    out["versions"] = vs->json.at("items");
    std::cout << ToJson(out) << "\n";
    return 0;
  }
  const auto& o = m->json.as_object();
  std::cout << "name: " << Str(o.at("name")) << "\ndescription: " << Str(o.at("description"))
            << "\ncreated: " << Str(o.at("created_at")) << " by " << Str(o.at("created_by"))
            << "\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : vs->json.at("items").as_array()) {
    const auto& x = v.as_object();
    std::string aliases;
    for (const auto& a : x.at("aliases").as_array()) aliases += (aliases.empty() ? "" : ",") + Str(a);
    rows.push_back({Str(x.at("version")), Str(x.at("status")), Str(x.at("format")), aliases,
                    Str(x.at("run_id")), Str(x.at("created_at"))});
  }
  PrintTable({"VERSION", "STATUS", "FORMAT", "ALIASES", "RUN", "CREATED"}, rows);
  return 0;
}

int Alias() {
  auto c = Client();
  if (!c.ok()) return Fail(c.status());
  const std::string target =
      "/api/v1/models/" + UrlEncode(S().name) + "/aliases/" + UrlEncode(S().alias);
  if (S().delete_alias) {
    auto r = c->Call("DELETE", target);
    if (!r.ok()) return Fail(r.status());
    if (!S().common.json) std::cout << "deleted alias " << S().alias << " of " << S().name << "\n";
    return 0;
  }
  if (S().version <= 0) {
    std::cerr << "mast: give the VERSION the alias should point at (or --delete)\n";
    return 2;
  }
  auto r = c->Call("PUT", target, ToJson(json::object{{"version", S().version}}));
  if (!r.ok()) return Fail(r.status());
  PrintVersion(r->json.as_object());
  return 0;
}

int Delete() {
  auto c = Client();
  if (!c.ok()) return Fail(c.status());
  std::string target = "/api/v1/models/" + UrlEncode(S().name);
  if (S().version > 0) target += "/versions/" + std::to_string(S().version);
  auto r = c->Call("DELETE", target);
  if (!r.ok()) return Fail(r.status());
  if (!S().common.json) {
    std::cout << "deleted " << S().name
              << (S().version > 0 ? " version " + std::to_string(S().version) : "") << "\n";
  }
  return 0;
}

int Import() {
  auto c = Client();
  if (!c.ok()) return Fail(c.status());
  auto sources = ScanModelRepository(S().dir);
  if (!sources.ok()) return Fail(sources.status());
  // Oldest first, so registry numbers follow the folder's order.
  std::sort(sources->begin(), sources->end(), [](const ModelSource& a, const ModelSource& b) {
    return a.name != b.name ? a.name < b.name : VersionLess(a.version, b.version);
  });
  json::array results;
  std::vector<std::vector<std::string>> rows;
  int failures = 0;
  for (size_t i = 0; i < sources->size(); ++i) {
    const ModelSource& s = (*sources)[i];
    const bool newest = i + 1 == sources->size() || (*sources)[i + 1].name != s.name;
    if (s.artifact_path.empty()) {
      std::cerr << "mast: skipping " << s.name << "/" << s.version << ": no model file\n";
      ++failures;
      continue;
    }
    PushOptions p;
    p.name = s.name;
    p.file = s.artifact_path;
    p.manifest = std::filesystem::exists(s.manifest_path) ? s.manifest_path : "";
    p.tags = {"imported_from=" + s.name + "/" + s.version};
    if (newest && !S().import_alias.empty()) p.aliases = {S().import_alias};
    auto v = PushOne(*c, p);
    if (!v.ok()) {
      std::cerr << "mast: " << s.name << "/" << s.version << ": " << v.status().message() << "\n";
      ++failures;
      continue;
    }
    results.push_back(*v);
    rows.push_back({s.name + "/" + s.version, Str(v->at("model_name")), Str(v->at("version")),
                    Str(v->at("status"))});
  }
  if (S().common.json) {
    std::cout << ToJson(results) << "\n";
  } else {
    PrintTable({"FOLDER", "MODEL", "VERSION", "STATUS"}, rows);
  }
  return failures == 0 ? 0 : 1;
}

int Gc() {
  auto c = Client();
  if (!c.ok()) return Fail(c.status());
  auto r = c->Call("POST", "/api/v1/gc", ToJson(json::object{{"min_age_seconds", S().min_age}}));
  if (!r.ok()) return Fail(r.status());
  if (S().common.json) {
    std::cout << r->body << "\n";
  } else {
    const auto& o = r->json.as_object();
    std::cout << "removed " << o.at("removed").as_array().size() << " unreferenced blob(s), kept "
              << Str(o.at("kept")) << "\n";
  }
  return 0;
}

}  // namespace

void AddRegistryCommands(CLI::App* app) {
  State& s = S();
  CLI::App* models = app->add_subcommand("models", "Manage the model registry");
  models->require_subcommand(1);

  s.push_cmd = models->add_subcommand("push", "Register a new version of a model from a file");
  s.push_cmd->add_option("NAME", s.push.name, "Model name")->required();
  s.push_cmd->add_option("FILE", s.push.file, "Model file (.onnx, .json, .ubj)")->required();
  s.push_cmd->add_option("--manifest", s.push.manifest, "model.yaml (default: beside FILE)");
  s.push_cmd->add_option("--run-id", s.push.run_id, "Training run that produced it");
  s.push_cmd->add_option("--tag", s.push.tags, "key=value (repeatable)");
  s.push_cmd->add_option("--alias", s.push.aliases, "Alias to point at it once READY (repeatable)");
  s.push_cmd->add_option("--description", s.push.description, "Description");
  s.push_cmd->add_option("--format", s.push.format, "onnx, xgboost-json or xgboost-ubj");
  AddCommon(s.push_cmd);

  s.list_cmd = models->add_subcommand("list", "List registered models");
  s.list_cmd->add_option("--filter", s.filter, "Only names containing this text");
  AddCommon(s.list_cmd);

  s.show_cmd = models->add_subcommand("show", "Show a model and its versions");
  s.show_cmd->add_option("NAME", s.name, "Model name")->required();
  s.show_cmd->add_option("--version", s.version, "Show one version");
  AddCommon(s.show_cmd);

  s.alias_cmd = models->add_subcommand("alias", "Point an alias at a version (or delete it)");
  s.alias_cmd->add_option("NAME", s.name, "Model name")->required();
  s.alias_cmd->add_option("ALIAS", s.alias, "Alias, e.g. production")->required();
  s.alias_cmd->add_option("VERSION", s.version, "Version number");
  s.alias_cmd->add_flag("--delete", s.delete_alias, "Delete the alias");
  AddCommon(s.alias_cmd);

  s.delete_cmd = models->add_subcommand("delete", "Delete a model, or one version");
  s.delete_cmd->add_option("NAME", s.name, "Model name")->required();
  s.delete_cmd->add_option("--version", s.version, "Delete only this version");
  AddCommon(s.delete_cmd);

  s.import_cmd = models->add_subcommand(
      "import", "Push a model repository folder (DIR/<name>/<version>/model.*) into the registry");
  s.import_cmd->add_option("DIR", s.dir, "Repository folder")->required();
  s.import_cmd->add_option("--alias", s.import_alias,
                           "Alias for each model's newest version (empty: none)")
      ->capture_default_str();
  AddCommon(s.import_cmd);

  s.gc_cmd = app->add_subcommand("gc", "Remove stored artifacts that no version references");
  s.gc_cmd->add_option("--min-age", s.min_age,
                       "Keep blobs younger than this many seconds (uploads in progress)")
      ->capture_default_str();
  AddCommon(s.gc_cmd);
}

int RunRegistryCommands() {
  State& s = S();
  if (s.push_cmd->parsed()) return Push();
  if (s.list_cmd->parsed()) return List();
  if (s.show_cmd->parsed()) return Show();
  if (s.alias_cmd->parsed()) return Alias();
  if (s.delete_cmd->parsed()) return Delete();
  if (s.import_cmd->parsed()) return Import();
  if (s.gc_cmd->parsed()) return Gc();
  return -1;
}

}  // namespace mast
