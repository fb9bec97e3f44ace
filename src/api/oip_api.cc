#include "api/oip_api.h"

#include <boost/json.hpp>
#include <set>

#include "api/oip_plain_request.h"
#include "api/predictions_api.h"
#include "api/tensor_json.h"
#include "common/json_reader.h"
#include "common/json_writer.h"
#include "common/worker_pool.h"
#include "registry/registry_source.h"

namespace mast {

namespace json = boost::json;

namespace {

json::array ShapeJson(const std::vector<int64_t>& shape) {
  json::array a;
  for (int64_t d : shape) a.push_back(d);
  return a;
}

json::array SpecsJson(const std::vector<TensorSpec>& specs) {
  json::array a;
  for (const auto& s : specs) {
    a.push_back(json::object{
        {"name", s.name}, {"datatype", DataTypeName(s.type)}, {"shape", ShapeJson(s.shape)}});
  }
  return a;
}

// Resolves {model} and optional {version}; replies 404 and returns null if
// not found.
std::shared_ptr<const ModelVersion> Resolve(ServingContext* ctx, Exchange* ex,
                                            bool require_loaded) {
  const std::string name(ex->match.Param("model"));
  const std::string version(ex->match.Param("version"));
  auto found = ctx->models->snapshot()->Find(name, version);
  if (!found.ok()) {
    ex->ReplyError(found.status());  // 404 unknown, 503 failed to load
    return nullptr;
  }
  ex->model = (*found)->name;
  ex->version = (*found)->version;
  return *found;
}

// The datatype input `spec.name` declares, checked against the model's.
StatusOr<DataType> CheckDatatype(std::string_view datatype, const TensorSpec& spec) {
  const std::string& name = spec.name;
  auto type = ParseDataType(datatype);
  if (!type) {
    return InvalidArgument("input '" + name + "': unsupported datatype '" + std::string(datatype) +
                           "' (supported: BOOL, INT32, INT64, FP32, FP64, BYTES)");
  }
  if (*type != spec.type) {
    return InvalidArgument("input '" + name + "': datatype " + std::string(DataTypeName(*type)) +
                           " does not match the model's " + std::string(DataTypeName(spec.type)));
  }
  return *type;
}

// The shape input `spec.name` declares, checked against the model's: the
// rank, and every dimension the model fixes.
Status CheckShape(const std::vector<int64_t>& shape, const TensorSpec& spec) {
  const std::string& name = spec.name;
  if (shape.size() != spec.shape.size()) {
    return InvalidArgument("input '" + name + "': shape has rank " + std::to_string(shape.size()) +
                           " but the model expects rank " + std::to_string(spec.shape.size()));
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    if (spec.shape[i] >= 0 && spec.shape[i] != shape[i]) {
      return InvalidArgument("input '" + name + "': dimension " + std::to_string(i) + " is " +
                             std::to_string(shape[i]) + " but the model expects " +
                             std::to_string(spec.shape[i]));
    }
  }
  return Status();
}

// Parses one request input against the model's declared input `spec`.
StatusOr<Tensor> ParseInput(const json::object& in, const TensorSpec& spec) {
  const json::value* shape_v = in.if_contains("shape");
  const json::value* type_v = in.if_contains("datatype");
  const json::value* data_v = in.if_contains("data");
  const std::string& name = spec.name;
  if (!shape_v || !shape_v->is_array()) {
    return InvalidArgument("input '" + name + "': 'shape' must be an array of integers");
  }
  if (!type_v || !type_v->is_string()) {
    return InvalidArgument("input '" + name + "': 'datatype' must be a string");
  }
  if (!data_v) return InvalidArgument("input '" + name + "': 'data' is missing");
  ASSIGN_OR_RETURN(const DataType type, CheckDatatype(type_v->get_string(), spec));
  std::vector<int64_t> shape;
  int64_t elements = 1;
  for (const auto& d : shape_v->get_array()) {
    if (!d.is_int64() || d.get_int64() < 0) {
      return InvalidArgument("input '" + name +
                             "': shape dimensions must be non-negative integers");
    }
    shape.push_back(d.get_int64());
    if (d.get_int64() > 0 && elements > (int64_t{1} << 40) / d.get_int64()) {
      return InvalidArgument("input '" + name + "': shape is too large");
    }
    elements *= d.get_int64();
  }
  RETURN_IF_ERROR(CheckShape(shape, spec));
  // Counts the data against the shape before allocating it.
  return TensorFromJson(name, type, std::move(shape), *data_v);
}

// The request of a single-input model in its most common form, read from
// the text without a JSON document: the same tensor and id as the document
// path makes of it. False (nothing done) for any other request and for any
// error: the document path then decides, and words the error.
bool ReadPlainRequest(const ModelSignature& sig, std::string_view text, InferenceRequest* request,
                      std::optional<json::value>* id) {
  if (sig.inputs.size() != 1) return false;
  const TensorSpec& spec = sig.inputs[0];
  thread_local PlainInferRequest plain;
  if (!ReadPlainInferRequest(text, &plain) || plain.name != spec.name) return false;
  auto type = CheckDatatype(plain.datatype, spec);
  if (!type.ok() || !CheckShape(plain.shape, spec).ok()) return false;
  thread_local std::vector<const json::value*> leaves;
  leaves.clear();
  for (const json::value& v : plain.data) leaves.push_back(&v);
  auto tensor = TensorFromLeaves(spec.name, *type, plain.shape, leaves);
  if (!tensor.ok()) return false;
  request->inputs.push_back(std::move(tensor).value());
  if (plain.has_id) *id = json::value(json::string(plain.id));
  return true;
}

// Replies the error `args` describe; false, for the functions below that
// say whether they succeeded.
template <typename... Args>
bool Refuse(Exchange* ex, Args&&... args) {
  ex->ReplyError(std::forward<Args>(args)...);
  return false;
}

// The request from its JSON document `body` (parsed here), with every check
// and error of the protocol. Replies the error and returns false if invalid.
bool ParseInferBody(const ModelVersion& model, Exchange* ex, json::value* body,
                    InferenceRequest* request, std::optional<json::value>* id) {
  boost::system::error_code ec;
  *body = ParseJson(ex->request.body(), ec);
  if (ec) {
    return Refuse(ex, 400, StatusCode::kInvalidArgument,
                  "request body is not valid JSON: " + DescribeJsonError(ex->request.body(), ec));
  }
  const json::object* req = body->if_object();
  if (!req)
    return Refuse(ex, 400, StatusCode::kInvalidArgument, "request body must be a JSON object");
  const json::value* inputs_v = req->if_contains("inputs");
  if (!inputs_v || !inputs_v->is_array()) {
    return Refuse(ex, 400, StatusCode::kInvalidArgument, "'inputs' must be an array of tensors");
  }
  if (const json::value* id_v = req->if_contains("id")) {
    if (!id_v->is_string())
      return Refuse(ex, 400, StatusCode::kInvalidArgument, "'id' must be a string");
    *id = *id_v;
  }

  const ModelSignature& sig = model.backend->signature();
  std::vector<bool> seen(sig.inputs.size(), false);
  for (const auto& in_v : inputs_v->get_array()) {
    const json::object* in = in_v.if_object();
    const json::value* name_v = in ? in->if_contains("name") : nullptr;
    if (!name_v || !name_v->is_string()) {
      return Refuse(ex, 400, StatusCode::kInvalidArgument, "every input needs a string 'name'");
    }
    const std::string name(name_v->get_string());
    size_t index = sig.inputs.size();
    for (size_t i = 0; i < sig.inputs.size(); ++i) {
      if (sig.inputs[i].name == name) index = i;
    }
    if (index == sig.inputs.size()) {
      return Refuse(ex, 400, StatusCode::kInvalidArgument,
                    "model '" + model.name + "' has no input '" + name + "'");
    }
    if (seen[index]) {
      return Refuse(ex, 400, StatusCode::kInvalidArgument, "input '" + name + "' is given twice");
    }
    seen[index] = true;
    auto tensor = ParseInput(*in, sig.inputs[index]);
    if (!tensor.ok()) return Refuse(ex, tensor.status());
    request->inputs.push_back(std::move(tensor).value());
  }
  for (size_t i = 0; i < sig.inputs.size(); ++i) {
    if (!seen[i]) {
      return Refuse(ex, 400, StatusCode::kInvalidArgument,
                    "missing input '" + sig.inputs[i].name + "'");
    }
  }
  // Every input must agree on the batch (first) dimension.
  for (const auto& t : request->inputs) {
    if (!t.shape.empty() && !request->inputs[0].shape.empty() &&
        t.shape[0] != request->inputs[0].shape[0]) {
      return Refuse(ex, 400, StatusCode::kInvalidArgument,
                    "inputs '" + request->inputs[0].name + "' and '" + t.name +
                        "' have different batch sizes");
    }
  }
  if (const json::value* outs = req->if_contains("outputs")) {
    if (!outs->is_array()) {
      return Refuse(ex, 400, StatusCode::kInvalidArgument, "'outputs' must be an array");
    }
    for (const auto& o : outs->get_array()) {
      const json::value* n = o.is_object() ? o.get_object().if_contains("name") : nullptr;
      if (!n || !n->is_string()) {
        return Refuse(ex, 400, StatusCode::kInvalidArgument,
                      "every requested output needs a string 'name'");
      }
      bool known = false;
      for (const auto& s : sig.outputs) known = known || s.name == n->get_string();
      if (!known) {
        return Refuse(
            ex, 400, StatusCode::kInvalidArgument,
            "model '" + model.name + "' has no output '" + std::string(n->get_string()) + "'");
      }
      request->output_names.emplace_back(n->get_string());
    }
  }
  return true;
}

void Infer(ServingContext* ctx, std::shared_ptr<Exchange> ex) {
  auto model = Resolve(ctx, ex.get(), true);
  if (!model) return;
  InferenceRequest request;
  request.model = model;
  std::optional<json::value> id;
  json::value body;  // the document; not made when the plain path reads the request
  if (ctx->prediction_log != nullptr ||
      !ReadPlainRequest(model->backend->signature(), ex->request.body(), &request, &id)) {
    if (!ParseInferBody(*model, ex.get(), &body, &request, &id)) return;
  }
  const int64_t rows =
      request.inputs.empty() || request.inputs[0].shape.empty() ? 1 : request.inputs[0].shape[0];
  Status queued = ctx->scheduler->Enqueue(
      std::move(request), [ctx, ex, model, id, rows, body = std::move(body)](
                              StatusOr<std::vector<Tensor>> outputs, double) mutable {
        if (!outputs.ok()) return ex->ReplyError(outputs.status());
        // Written directly; the JSON outputs are built only for the log.
        std::string text = "{\"model_name\":";
        AppendJsonString(model->name, &text);
        text += ",\"model_version\":";
        AppendJsonString(model->version, &text);
        if (id) {
          text += ",\"id\":";
          AppendJson(*id, &text);
        }
        text += ",\"outputs\":[";
        for (size_t i = 0; i < outputs->size(); ++i) {
          const Tensor& t = (*outputs)[i];
          if (i > 0) text += ',';
          text += "{\"name\":";
          AppendJsonString(t.name, &text);
          text += ",\"datatype\":";
          AppendJsonString(DataTypeName(t.type), &text);
          text += ",\"shape\":[";
          for (size_t d = 0; d < t.shape.size(); ++d) {
            if (d > 0) text += ',';
            text += std::to_string(t.shape[d]);
          }
          text += ']';
          text += ",\"data\":";
          AppendFlatJson(t, &text);
          text += '}';
        }
        text += "]}";
        ex->Reply(200, std::move(text));
        if (!ctx->prediction_log) return;
        json::array outs;
        for (const Tensor& t : *outputs) {
          outs.push_back(json::object{{"name", t.name},
                                      {"datatype", DataTypeName(t.type)},
                                      {"shape", ShapeJson(t.shape)},
                                      {"data", FlatToJson(t)}});
        }
        RecordPrediction(ctx, *ex, PredictionEvent::kInfer, model,
                         std::move(body.as_object()["inputs"]), json::value(std::move(outs)), rows);
      });
  if (!queued.ok()) ex->ReplyUnavailable(queued);
}

void ModelMetadata(ServingContext* ctx, std::shared_ptr<Exchange> ex) {
  const std::string name(ex->match.Param("model"));
  const std::string version(ex->match.Param("version"));
  auto map = ctx->models->snapshot();
  const auto* versions = map->Versions(name);
  if (!versions)
    return ex->ReplyError(404, StatusCode::kNotFound, "model '" + name + "' is not known");
  auto model = Resolve(ctx, ex.get(), true);
  if (!model) return;
  json::array vs;
  for (const auto& v : *versions) vs.push_back(json::string(v.version));
  const ModelSignature& sig = model->backend->signature();
  ex->ReplyJson(200, json::object{{"name", model->name},
                                  {"versions", std::move(vs)},
                                  {"platform", model->backend->platform()},
                                  {"inputs", SpecsJson(sig.inputs)},
                                  {"outputs", SpecsJson(sig.outputs)}});
}

void ModelReady(ServingContext* ctx, std::shared_ptr<Exchange> ex) {
  const std::string name(ex->match.Param("model"));
  const std::string version(ex->match.Param("version"));
  auto found = ctx->models->snapshot()->Find(name, version);
  if (!found.ok() && found.status().code() == StatusCode::kNotFound) {
    return ex->ReplyError(404, StatusCode::kNotFound, found.status().message());
  }
  json::object body{{"name", name}, {"ready", found.ok()}};
  if (!version.empty()) body["version"] = version;
  if (!found.ok()) body["error"] = found.status().message();
  ex->ReplyJson(found.ok() ? 200 : 503, body);
}

// POST /v2/repository/index: every model the server knows, per version.
void RepositoryIndex(ServingContext* ctx, std::shared_ptr<Exchange> ex) {
  bool ready_only = false;
  if (!ex->request.body().empty()) {
    boost::system::error_code ec;
    json::value body = ParseJson(ex->request.body(), ec);
    if (ec) {
      return ex->ReplyError(
          400, StatusCode::kInvalidArgument,
          "request body is not valid JSON: " + DescribeJsonError(ex->request.body(), ec));
    }
    if (!body.is_object()) {
      return ex->ReplyError(400, StatusCode::kInvalidArgument,
                            "request body must be a JSON object");
    }
    if (const json::value* r = body.as_object().if_contains("ready")) {
      if (!r->is_bool())
        return ex->ReplyError(400, StatusCode::kInvalidArgument, "'ready' must be a boolean");
      ready_only = r->get_bool();
    }
  }
  json::array out;
  auto map = ctx->models->snapshot();
  std::set<std::string> listed;
  for (const auto& [name, versions] : map->models()) {
    listed.insert(name);
    for (const auto& v : versions) {
      if (ready_only && !v.model) continue;
      json::object o{
          {"name", name}, {"version", v.version}, {"state", v.model ? "READY" : "UNAVAILABLE"}};
      o["reason"] = v.model ? "" : v.status.message();
      out.push_back(std::move(o));
    }
  }
  if (ctx->registry_source != nullptr && !ready_only) {
    // Registered models this replica does not serve.
    auto registered = ctx->registry_store->ListModels("", 100000, "");
    if (!registered.ok()) return ex->ReplyError(registered.status());
    for (const auto& m : *registered) {
      if (listed.count(m.name)) continue;
      out.push_back(json::object{{"name", m.name},
                                 {"state", "UNAVAILABLE"},
                                 {"reason", ctx->registry_source->IsUnloaded(m.name)
                                                ? "unloaded"
                                                : "no READY version has the serving alias"}});
    }
  }
  ex->ReplyJson(200, out);
}

void RepositoryLoad(ServingContext* ctx, std::shared_ptr<Exchange> ex, bool load) {
  if (ctx->registry_source == nullptr) {
    return ex->ReplyError(400, StatusCode::kInvalidArgument,
                          "the repository extension needs the registry (start with --data-dir "
                          "or --store)");
  }
  const std::string name(ex->match.Param("model"));
  ctx->control_workers->Post([ctx, ex, name, load] {
    Status s =
        load ? ctx->registry_source->LoadModel(name) : ctx->registry_source->UnloadModel(name);
    if (!s.ok()) return ex->ReplyError(s);
    if (load) {
      auto found = ctx->models->snapshot()->Find(name);
      if (!found.ok()) {
        return ex->ReplyError(
            400, StatusCode::kFailedPrecondition,
            "model '" + name + "' has nothing to serve: " + found.status().message());
      }
    }
    ex->ReplyJson(200, json::object{});
  });
}

}  // namespace

void RegisterOipApi(Gateway* gateway, ServingContext* ctx) {
  gateway->AddRoute({http::verb::get, "/v2", ErrorStyle::kOip, "Server metadata", "oip",
                     [ctx](std::shared_ptr<Exchange> ex) {
                       ex->ReplyJson(200, json::object{{"name", "mast"},
                                                       {"version", ctx->server_version},
                                                       {"extensions", json::array{}}});
                     }});
  gateway->AddRoute({http::verb::get, "/v2/health/live", ErrorStyle::kOip,
                     "Server liveness (200 while the process serves)", "oip",
                     [](std::shared_ptr<Exchange> ex) {
                       ex->ReplyJson(200, json::object{{"live", true}});
                     }});
  gateway->AddRoute({http::verb::get, "/v2/health/ready", ErrorStyle::kOip,
                     "Server readiness (200 when at least one model is loaded, else 503)", "oip",
                     [ctx](std::shared_ptr<Exchange> ex) {
                       const bool ready = ctx->models->snapshot()->loaded_count() > 0;
                       ex->ReplyJson(ready ? 200 : 503, json::object{{"ready", ready}});
                     }});
  RouteInfo index{http::verb::post,
                  "/v2/repository/index",
                  ErrorStyle::kOip,
                  "Repository extension: every model and version with its state",
                  "oip",
                  [ctx](std::shared_ptr<Exchange> ex) { RepositoryIndex(ctx, ex); }};
  index.admin = true;
  gateway->AddRoute(std::move(index));
  RouteInfo load{http::verb::post,
                 "/v2/repository/models/{model}/load",
                 ErrorStyle::kOip,
                 "Repository extension: serve a registered model on this replica again",
                 "oip",
                 [ctx](std::shared_ptr<Exchange> ex) { RepositoryLoad(ctx, ex, true); }};
  load.admin = true;
  gateway->AddRoute(std::move(load));
  RouteInfo unload{http::verb::post,
                   "/v2/repository/models/{model}/unload",
                   ErrorStyle::kOip,
                   "Repository extension: stop serving a model on this replica",
                   "oip",
                   [ctx](std::shared_ptr<Exchange> ex) { RepositoryLoad(ctx, ex, false); }};
  unload.admin = true;
  gateway->AddRoute(std::move(unload));
  for (const char* prefix : {"/v2/models/{model}", "/v2/models/{model}/versions/{version}"}) {
    const std::string p(prefix);
    gateway->AddRoute({http::verb::get, p, ErrorStyle::kOip, "Model metadata", "oip",
                       [ctx](std::shared_ptr<Exchange> ex) { ModelMetadata(ctx, ex); }});
    gateway->AddRoute({http::verb::get, p + "/ready", ErrorStyle::kOip,
                       "Model readiness (200 ready, 503 not ready, 404 unknown)", "oip",
                       [ctx](std::shared_ptr<Exchange> ex) { ModelReady(ctx, ex); }});
    gateway->AddRoute({http::verb::post, p + "/infer", ErrorStyle::kOip,
                       "Inference on JSON tensors", "oip",
                       [ctx](std::shared_ptr<Exchange> ex) { Infer(ctx, ex); }});
  }
}

}  // namespace mast
