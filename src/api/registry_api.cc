#include "api/registry_api.h"

#include <boost/json.hpp>

#include "common/json_reader.h"
#include "common/logging.h"

namespace mast {

namespace json = boost::json;

namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

json::object TagsJson(const Tags& tags) {
  json::object o;
  for (const auto& [k, v] : tags) o[k] = v;
  return o;
}

json::object ModelJson(const RegisteredModel& m) {
  json::object aliases;
  for (const auto& [a, v] : m.aliases) aliases[a] = v;
  json::object o{{"name", m.name},
                 {"description", m.description},
                 {"tags", TagsJson(m.tags)},
                 {"aliases", std::move(aliases)},
                 {"created_by", m.created_by},
                 {"created_at", m.created_at},
                 {"updated_at", m.updated_at}};
  if (m.latest_version > 0) o["latest_version"] = m.latest_version;
  return o;
}

json::object VersionJson(const ModelVersionRecord& v) {
  json::array aliases;
  for (const auto& a : v.aliases) aliases.push_back(json::string(a));
  json::object o{{"model_name", v.model_name},
                 {"version", v.version},
                 {"status", VersionStatusName(v.status)},
                 {"digest", v.digest},
                 {"size_bytes", v.size_bytes},
                 {"format", v.format},
                 {"run_id", v.run_id},
                 {"description", v.description},
                 {"tags", TagsJson(v.tags)},
                 {"aliases", std::move(aliases)},
                 {"created_by", v.created_by},
                 {"created_at", v.created_at},
                 {"updated_at", v.updated_at}};
  if (!v.status_message.empty()) o["status_message"] = v.status_message;
  if (!v.manifest.empty()) o["manifest"] = v.manifest;
  if (!v.signature.empty()) {
    boost::system::error_code ec;
    json::value sig = json::parse(v.signature, ec);
    if (!ec) o["signature"] = std::move(sig);
  }
  return o;
}

// Parses the body as a JSON object; replies 400 and returns nullopt if not.
std::optional<json::object> JsonBody(Exchange& ex, bool allow_empty = false) {
  if (allow_empty && ex.request.body().empty()) return json::object{};
  boost::system::error_code ec;
  json::value v = json::parse(ex.request.body(), ec);
  if (ec || !v.is_object()) {
    ex.ReplyError(400, StatusCode::kInvalidArgument,
                  ec ? "request body is not valid JSON: " + DescribeJsonError(ex.request.body(), ec)
                     : "request body must be a JSON object");
    return std::nullopt;
  }
  return std::move(v.as_object());
}

// Reads an optional string field; sets `error` if present with another type.
std::string StringField(const json::object& o, std::string_view key, Status* error) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return "";
  if (!v->is_string()) {
    *error = InvalidArgument("field '" + std::string(key) + "' must be a string");
    return "";
  }
  return std::string(v->get_string());
}

Tags TagsField(const json::object& o, Status* error) {
  Tags tags;
  const json::value* v = o.if_contains("tags");
  if (v == nullptr || v->is_null()) return tags;
  if (!v->is_object()) {
    *error = InvalidArgument("field 'tags' must be an object of strings");
    return tags;
  }
  for (const auto& kv : v->get_object()) {
    if (!kv.value().is_string()) {
      *error = InvalidArgument("tag '" + std::string(kv.key()) + "' must have a string value");
      return tags;
    }
    tags[std::string(kv.key())] = std::string(kv.value().get_string());
  }
  return tags;
}

std::optional<int64_t> ParseVersion(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v > 0 ? std::optional<int64_t>(v) : std::nullopt;
}

StatusOr<int> PageSize(const Exchange& ex) {
  auto p = ex.QueryParam("page_size");
  if (!p) return kDefaultPageSize;
  auto n = ParseVersion(*p);
  if (!n || *n > kMaxPageSize) {
    return InvalidArgument("page_size must be an integer from 1 to " +
                           std::to_string(kMaxPageSize));
  }
  return static_cast<int>(*n);
}

class RegistryApi {
 public:
  RegistryApi(Registry* registry, WorkerPool* workers, std::function<void()> on_change)
      : registry_(registry), workers_(workers), on_change_(std::move(on_change)) {}

  // Runs `work` on a worker thread; `work` answers the exchange.
  void Offload(std::shared_ptr<Exchange> ex, std::function<void(Exchange&)> work) {
    workers_->Post([ex, work = std::move(work)] { work(*ex); });
  }

  void Changed() {
    if (on_change_) on_change_();
  }

  RegistryStore* store() { return registry_->store(); }
  Registry* registry() { return registry_; }

 private:
  Registry* registry_;
  WorkerPool* workers_;
  std::function<void()> on_change_;
};

// Replies with `status` (error) or `ok_status` and `body`.
void Answer(Exchange& ex, const Status& status, int ok_status, const json::value& body) {
  if (!status.ok()) return ex.ReplyError(status);
  if (ok_status == 204) return ex.Reply(204, "", "application/json");
  ex.ReplyJson(ok_status, body);
}

}  // namespace

void RegisterRegistryApi(Gateway* gateway, Registry* registry, WorkerPool* workers,
                         std::function<void()> on_change) {
  auto api = std::make_shared<RegistryApi>(registry, workers, std::move(on_change));
  auto add = [&](http::verb method, std::string pattern, std::string summary,
                 std::function<void(std::shared_ptr<RegistryApi>, Exchange&)> work) {
    gateway->AddRoute({method, std::move(pattern), ErrorStyle::kNative, std::move(summary),
                       "registry",
                       [api, work](std::shared_ptr<Exchange> ex) {
                         api->Offload(ex, [api, work](Exchange& e) { work(api, e); });
                       },
                       /*admin=*/true});
  };
  auto model_of = [](Exchange& ex) { return std::string(ex.match.Param("model")); };
  // Reads {version}; replies 400 and returns nullopt if it is not a number.
  auto version_of = [](Exchange& ex) -> std::optional<int64_t> {
    auto v = ParseVersion(ex.match.Param("version"));
    if (!v) {
      ex.ReplyError(400, StatusCode::kInvalidArgument,
                    "version '" + std::string(ex.match.Param("version")) +
                        "' is not a positive integer");
    }
    return v;
  };

  add(http::verb::post, "/api/v1/blobs", "Upload a model artifact (raw bytes); returns its digest",
      [](auto api, Exchange& ex) {
        auto blob = ex.spooled ? api->registry()->PutBlobFile(ex.spooled->path, ex.spooled->size)
                               : api->registry()->PutBlob(ex.request.body());
        if (!blob.ok()) return ex.ReplyError(blob.status());
        LogInfo("blob stored", {{"digest", blob->digest}, {"size_bytes", blob->size_bytes}});
        ex.ReplyJson(201, json::object{{"digest", blob->digest}, {"size_bytes", blob->size_bytes}});
      });

  add(http::verb::post, "/api/v1/gc",
      "Remove stored artifacts no version references ({\"min_age_seconds\": 3600})",
      [](auto api, Exchange& ex) {
        auto body = JsonBody(ex, /*allow_empty=*/true);
        if (!body) return;
        double min_age = 3600;
        if (const json::value* v = body->if_contains("min_age_seconds")) {
          if (!v->is_number() || v->to_number<double>() < 0) {
            return ex.ReplyError(InvalidArgument("min_age_seconds must be a non-negative number"));
          }
          min_age = v->to_number<double>();
        }
        int kept = 0;
        auto removed = api->registry()->CollectGarbage(
            std::chrono::seconds(static_cast<int64_t>(min_age)), &kept);
        if (!removed.ok()) return ex.ReplyError(removed.status());
        json::array list;
        for (const auto& d : *removed) list.push_back(json::string(d));
        ex.ReplyJson(200, json::object{{"removed", std::move(list)}, {"kept", kept}});
      });

  add(http::verb::post, "/api/v1/models", "Create a registered model", [](auto api, Exchange& ex) {
    auto body = JsonBody(ex);
    if (!body) return;
    Status error;
    std::string name = StringField(*body, "name", &error);
    std::string description = StringField(*body, "description", &error);
    Tags tags = TagsField(*body, &error);
    if (!error.ok()) return ex.ReplyError(error);
    if (name.empty()) return ex.ReplyError(InvalidArgument("field 'name' is required"));
    auto m = api->store()->CreateModel(name, description, tags, ex.actor);
    if (m.ok()) api->Changed();
    Answer(ex, m.status(), 201, m.ok() ? json::value(ModelJson(*m)) : json::value());
  });

  add(http::verb::get, "/api/v1/models", "List registered models (filter, page_size, page_token)",
      [](auto api, Exchange& ex) {
        auto size = PageSize(ex);
        if (!size.ok()) return ex.ReplyError(size.status());
        auto models = api->store()->ListModels(ex.QueryParam("filter").value_or(""), *size + 1,
                                               ex.QueryParam("page_token").value_or(""));
        if (!models.ok()) return ex.ReplyError(models.status());
        json::array items;
        std::string next;
        for (size_t i = 0; i < models->size(); ++i) {
          if (static_cast<int>(i) == *size) {
            next = (*models)[i - 1].name;
            break;
          }
          items.push_back(ModelJson((*models)[i]));
        }
        ex.ReplyJson(200, json::object{{"items", std::move(items)}, {"next_page_token", next}});
      });

  add(http::verb::get, "/api/v1/models/{model}", "Get a registered model",
      [model_of](auto api, Exchange& ex) {
        auto m = api->store()->GetModel(model_of(ex));
        Answer(ex, m.status(), 200, m.ok() ? json::value(ModelJson(*m)) : json::value());
      });

  add(http::verb::patch, "/api/v1/models/{model}", "Update a model's description",
      [model_of](auto api, Exchange& ex) {
        auto body = JsonBody(ex);
        if (!body) return;
        Status error;
        std::string description = StringField(*body, "description", &error);
        if (!error.ok()) return ex.ReplyError(error);
        Status s = api->store()->UpdateModel(model_of(ex), description);
        if (!s.ok()) return ex.ReplyError(s);
        api->Changed();
        auto m = api->store()->GetModel(model_of(ex));
        Answer(ex, m.status(), 200, m.ok() ? json::value(ModelJson(*m)) : json::value());
      });

  add(http::verb::delete_, "/api/v1/models/{model}",
      "Delete a model and its versions (409 while an alias exists)",
      [model_of](auto api, Exchange& ex) {
        Status s = api->store()->DeleteModel(model_of(ex));
        if (s.ok()) api->Changed();
        Answer(ex, s, 204, nullptr);
      });

  add(http::verb::put, "/api/v1/models/{model}/tags/{key}", "Set a model tag ({\"value\": ...})",
      [model_of](auto api, Exchange& ex) {
        auto body = JsonBody(ex);
        if (!body) return;
        Status error;
        std::string value = StringField(*body, "value", &error);
        if (!error.ok()) return ex.ReplyError(error);
        Status s = api->store()->SetModelTag(model_of(ex), std::string(ex.match.Param("key")), value);
        if (s.ok()) api->Changed();
        Answer(ex, s, 204, nullptr);
      });

  add(http::verb::delete_, "/api/v1/models/{model}/tags/{key}", "Delete a model tag",
      [model_of](auto api, Exchange& ex) {
        Status s = api->store()->DeleteModelTag(model_of(ex), std::string(ex.match.Param("key")));
        if (s.ok()) api->Changed();
        Answer(ex, s, 204, nullptr);
      });

  add(http::verb::post, "/api/v1/models/{model}/versions",
      "Create a version from an uploaded blob; it is test-loaded before it is READY",
      [model_of](auto api, Exchange& ex) {
        auto body = JsonBody(ex);
        if (!body) return;
        Status error;
        NewVersion req;
        req.model_name = model_of(ex);
        req.digest = StringField(*body, "digest", &error);
        req.format = StringField(*body, "format", &error);
        req.manifest = StringField(*body, "manifest", &error);
        req.run_id = StringField(*body, "run_id", &error);
        req.description = StringField(*body, "description", &error);
        req.tags = TagsField(*body, &error);
        req.actor = ex.actor;
        std::vector<std::string> aliases;
        if (const json::value* a = body->if_contains("aliases")) {
          if (!a->is_array()) {
            error = InvalidArgument("field 'aliases' must be an array of strings");
          } else {
            for (const auto& e : a->get_array()) {
              if (!e.is_string()) {
                error = InvalidArgument("field 'aliases' must be an array of strings");
                break;
              }
              aliases.emplace_back(e.get_string());
            }
          }
        }
        if (!error.ok()) return ex.ReplyError(error);
        if (req.digest.empty()) {
          return ex.ReplyError(InvalidArgument(
              "field 'digest' is required (upload the artifact to POST /api/v1/blobs first)"));
        }
        for (const auto& alias : aliases) {
          Status valid = ValidateAlias(alias);
          if (!valid.ok()) return ex.ReplyError(valid);
        }
        auto v = api->registry()->CreateVersion(req);
        if (!v.ok()) return ex.ReplyError(v.status());
        api->Changed();
        if (v->status != VersionStatus::kReady) {
          json::object body_out{
              {"error",
               json::object{{"code", "invalid_argument"},
                            {"message", "model '" + v->model_name + "' version " +
                                            std::to_string(v->version) +
                                            " failed its test load: " + v->status_message},
                            {"details", json::array{json::object{
                                            {"field", "version"},
                                            {"message", std::to_string(v->version)}}}}}}};
          return ex.ReplyJson(422, body_out);
        }
        for (const auto& alias : aliases) {
          Status s = api->store()->SetAlias(v->model_name, alias, v->version, ex.actor);
          if (!s.ok()) return ex.ReplyError(s);
        }
        if (!aliases.empty()) api->Changed();
        auto final_v = api->store()->GetVersion(v->model_name, v->version);
        Answer(ex, final_v.status(), 201,
               final_v.ok() ? json::value(VersionJson(*final_v)) : json::value());
      });

  add(http::verb::get, "/api/v1/models/{model}/versions", "List a model's versions, newest first",
      [model_of](auto api, Exchange& ex) {
        auto size = PageSize(ex);
        if (!size.ok()) return ex.ReplyError(size.status());
        int64_t before = 0;
        if (auto token = ex.QueryParam("page_token"); token && !token->empty()) {
          auto v = ParseVersion(*token);
          if (!v) return ex.ReplyError(InvalidArgument("page_token is not valid"));
          before = *v;
        }
        auto versions = api->store()->ListVersions(model_of(ex), *size + 1, before);
        if (!versions.ok()) return ex.ReplyError(versions.status());
        json::array items;
        std::string next;
        for (size_t i = 0; i < versions->size(); ++i) {
          if (static_cast<int>(i) == *size) {
            next = std::to_string((*versions)[i - 1].version);
            break;
          }
          items.push_back(VersionJson((*versions)[i]));
        }
        ex.ReplyJson(200, json::object{{"items", std::move(items)}, {"next_page_token", next}});
      });

  add(http::verb::get, "/api/v1/models/{model}/versions/{version}", "Get a version",
      [model_of, version_of](auto api, Exchange& ex) {
        auto n = version_of(ex);
        if (!n) return;
        auto v = api->store()->GetVersion(model_of(ex), *n);
        Answer(ex, v.status(), 200, v.ok() ? json::value(VersionJson(*v)) : json::value());
      });

  add(http::verb::patch, "/api/v1/models/{model}/versions/{version}",
      "Update a version's description", [model_of, version_of](auto api, Exchange& ex) {
        auto n = version_of(ex);
        if (!n) return;
        auto body = JsonBody(ex);
        if (!body) return;
        Status error;
        std::string description = StringField(*body, "description", &error);
        if (!error.ok()) return ex.ReplyError(error);
        Status s = api->store()->UpdateVersion(model_of(ex), *n, description);
        if (!s.ok()) return ex.ReplyError(s);
        api->Changed();
        auto v = api->store()->GetVersion(model_of(ex), *n);
        Answer(ex, v.status(), 200, v.ok() ? json::value(VersionJson(*v)) : json::value());
      });

  add(http::verb::delete_, "/api/v1/models/{model}/versions/{version}",
      "Delete a version (409 while an alias uses it)",
      [model_of, version_of](auto api, Exchange& ex) {
        auto n = version_of(ex);
        if (!n) return;
        Status s = api->store()->DeleteVersion(model_of(ex), *n);
        if (s.ok()) api->Changed();
        Answer(ex, s, 204, nullptr);
      });

  add(http::verb::put, "/api/v1/models/{model}/versions/{version}/tags/{key}",
      "Set a version tag ({\"value\": ...})", [model_of, version_of](auto api, Exchange& ex) {
        auto n = version_of(ex);
        if (!n) return;
        auto body = JsonBody(ex);
        if (!body) return;
        Status error;
        std::string value = StringField(*body, "value", &error);
        if (!error.ok()) return ex.ReplyError(error);
        Status s = api->store()->SetVersionTag(model_of(ex), *n,
                                               std::string(ex.match.Param("key")), value);
        if (s.ok()) api->Changed();
        Answer(ex, s, 204, nullptr);
      });

  add(http::verb::delete_, "/api/v1/models/{model}/versions/{version}/tags/{key}",
      "Delete a version tag", [model_of, version_of](auto api, Exchange& ex) {
        auto n = version_of(ex);
        if (!n) return;
        Status s = api->store()->DeleteVersionTag(model_of(ex), *n,
                                                  std::string(ex.match.Param("key")));
        if (s.ok()) api->Changed();
        Answer(ex, s, 204, nullptr);
      });

  add(http::verb::put, "/api/v1/models/{model}/aliases/{alias}",
      "Point an alias at a READY version ({\"version\": N}); the move is recorded",
      [model_of](auto api, Exchange& ex) {
        auto body = JsonBody(ex);
        if (!body) return;
        const json::value* v = body->if_contains("version");
        std::optional<int64_t> version;
        if (v && v->is_int64() && v->get_int64() > 0) version = v->get_int64();
        if (v && v->is_string()) version = ParseVersion(v->get_string());
        if (!version) {
          return ex.ReplyError(InvalidArgument("field 'version' must be a positive integer"));
        }
        const std::string alias(ex.match.Param("alias"));
        Status s = api->store()->SetAlias(model_of(ex), alias, *version, ex.actor);
        if (!s.ok()) return ex.ReplyError(s);
        api->Changed();
        LogInfo("alias moved", {{"model", model_of(ex)},
                                {"alias", alias},
                                {"version", *version},
                                {"actor", ex.actor}});
        auto got = api->store()->GetVersionByAlias(model_of(ex), alias);
        Answer(ex, got.status(), 200, got.ok() ? json::value(VersionJson(*got)) : json::value());
      });

  add(http::verb::get, "/api/v1/models/{model}/aliases/{alias}",
      "The version an alias points at", [model_of](auto api, Exchange& ex) {
        auto got = api->store()->GetVersionByAlias(model_of(ex), std::string(ex.match.Param("alias")));
        Answer(ex, got.status(), 200, got.ok() ? json::value(VersionJson(*got)) : json::value());
      });

  add(http::verb::delete_, "/api/v1/models/{model}/aliases/{alias}", "Delete an alias",
      [model_of](auto api, Exchange& ex) {
        Status s = api->store()->DeleteAlias(model_of(ex), std::string(ex.match.Param("alias")),
                                             ex.actor);
        if (s.ok()) api->Changed();
        Answer(ex, s, 204, nullptr);
      });

  add(http::verb::get, "/api/v1/models/{model}/alias-history",
      "Every alias move of a model: who, when, from, to", [model_of](auto api, Exchange& ex) {
        auto history = api->store()->AliasHistory(model_of(ex));
        if (!history.ok()) return ex.ReplyError(history.status());
        json::array items;
        for (const auto& c : *history) {
          items.push_back(json::object{
              {"alias", c.alias},
              {"from_version", c.from_version ? json::value(*c.from_version) : json::value()},
              {"to_version", c.to_version ? json::value(*c.to_version) : json::value()},
              {"actor", c.actor},
              {"at", c.at}});
        }
        ex.ReplyJson(200, json::object{{"items", std::move(items)}, {"next_page_token", ""}});
      });
}

}  // namespace mast
