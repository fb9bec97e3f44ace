#include "api/classic_api.h"

#include <boost/json.hpp>

#include "api/predictions_api.h"
#include "api/tensor_json.h"
#include "common/json_reader.h"
#include "common/json_writer.h"

namespace mast {

namespace json = boost::json;

namespace {

// The model `POST /predict` serves.
StatusOr<std::string> DefaultModel(const ServingContext& ctx, const ServingMap& map) {
  if (!ctx.default_model.empty()) return ctx.default_model;
  if (map.models().size() == 1) return map.models().begin()->first;
  if (map.models().empty()) return Unavailable("no model is loaded");
  return NotFound("several models are served; name one with POST "
                  "/v1/models/{model}/predict (or start with --default-model)");
}

bool ProbaRequested(const Exchange& ex, Status* error) {
  auto p = ex.QueryParam("proba");
  if (!p) return false;
  if (*p == "true" || *p == "1" || p->empty()) return true;
  if (*p == "false" || *p == "0") return false;
  *error = InvalidArgument("query parameter 'proba' must be true or false");
  return false;
}

void Predict(ServingContext* ctx, const std::shared_ptr<Exchange>& ex, const ServingMap& map,
             const std::string& model_name) {
  auto found = map.Find(model_name);
  if (!found.ok()) return ex->ReplyError(found.status());
  std::shared_ptr<const ModelVersion> model = std::move(found).value();
  ex->model = model->name;
  ex->version = model->version;
  if (!model->features) {
    return ex->ReplyError(422, StatusCode::kUnprocessable,
                          model->features_status.message());
  }
  Status proba_error;
  const bool proba = ProbaRequested(*ex, &proba_error);
  if (!proba_error.ok()) return ex->ReplyError(proba_error);
  const ModelSignature& sig = model->backend->signature();
  if (proba && sig.probabilities_output.empty()) {
    return ex->ReplyError(422, StatusCode::kUnprocessable,
                          "model '" + model->name +
                              "' is not a classifier with class probabilities; "
                              "omit proba=true");
  }

  InferenceRequest request;
  request.model = model;
  int64_t rows = 1;
  json::value body;  // parsed only when needed: errors, or the prediction log
  std::vector<FieldError> errors;
  bool valid = true;
  if (ctx->prediction_log != nullptr ||
      !model->features->MapFlatObject(ex->request.body(), &request.inputs)) {
    boost::system::error_code ec;
    body = ParseJson(ex->request.body(), ec);
    if (ec) {
      return ex->ReplyError(400, StatusCode::kInvalidArgument,
                            "request body is not valid JSON: " +
                                DescribeJsonError(ex->request.body(), ec));
    }
    valid = model->features->Map(body, &request.inputs, &rows, &errors);
  }
  if (model->quality) model->quality->Record(rows, errors);
  if (!valid) {
    json::array detail;
    for (auto& e : errors) {
      detail.push_back(json::object{{"loc", std::move(e.loc)},
                                    {"msg", e.msg},
                                    {"type", e.type}});
    }
    return ex->ReplyJson(422, json::object{{"detail", std::move(detail)}});
  }
  // The primary output, and the probabilities if asked for.
  request.output_names.push_back(sig.outputs.at(0).name);
  if (proba) request.output_names.push_back(sig.probabilities_output);

  Status queued = ctx->scheduler->Enqueue(
      std::move(request),
      [ctx, ex, proba, model, rows, body = std::move(body)](
          StatusOr<std::vector<Tensor>> outputs, double seconds) mutable {
        if (!outputs.ok()) return ex->ReplyError(outputs.status());
        // Written directly; the JSON object is built only for the log.
        std::string text = "{\"prediction\":";
        AppendRowsJson((*outputs)[0], &text);
        if (proba) {
          text += ",\"probabilities\":";
          AppendRowsJson((*outputs)[1], &text);
        }
        text += ",\"inference_time_ms\":";
        AppendJson(json::value(seconds * 1000.0), &text);
        text += '}';
        ex->Reply(200, std::move(text));
        if (!ctx->prediction_log) return;
        json::object answer;
        answer["prediction"] = RowsToJson((*outputs)[0]);
        if (proba) answer["probabilities"] = RowsToJson((*outputs)[1]);
        RecordPrediction(ctx, *ex, PredictionEvent::kPredict, std::move(model),
                         std::move(body), std::move(answer), rows);
      });
  if (!queued.ok()) ex->ReplyUnavailable(queued);
}

}  // namespace

void RegisterClassicApi(Gateway* gateway, ServingContext* ctx) {
  gateway->AddRoute(
      {http::verb::get, "/health", ErrorStyle::kClassic,
       "Liveness and model status (200 healthy, 503 while no model is loaded)",
       "classic", [ctx](std::shared_ptr<Exchange> ex) {
         const bool loaded = ctx->models->snapshot()->loaded_count() > 0;
         ex->ReplyJson(loaded ? 200 : 503,
                       json::object{{"status", loaded ? "healthy" : "unhealthy"},
                                    {"model_loaded", loaded}});
       }});
  gateway->AddRoute(
      {http::verb::post, "/predict", ErrorStyle::kClassic,
       "Predict with the default model from named features", "classic",
       [ctx](std::shared_ptr<Exchange> ex) {
         auto map = ctx->models->snapshot();
         auto name = DefaultModel(*ctx, *map);
         if (!name.ok()) return ex->ReplyError(name.status());
         Predict(ctx, ex, *map, *name);
       }});
  gateway->AddRoute(
      {http::verb::post, "/v1/models/{model}/predict", ErrorStyle::kClassic,
       "Predict with a named model from named features", "classic",
       [ctx](std::shared_ptr<Exchange> ex) {
         Predict(ctx, ex, *ctx->models->snapshot(), std::string(ex->match.Param("model")));
       }});
  RouteInfo quality{
      http::verb::get, "/api/v1/models/{model}/quality", ErrorStyle::kNative,
      "Data-quality counters of a served model's incoming rows, per version and field",
      "registry", [ctx](std::shared_ptr<Exchange> ex) {
        const std::string name(ex->match.Param("model"));
        auto map = ctx->models->snapshot();
        const auto* versions = map->Versions(name);
        if (versions == nullptr) {
          return ex->ReplyError(404, StatusCode::kNotFound,
                                "model '" + name + "' is not served here");
        }
        json::array out;
        for (const auto& v : *versions) {
          if (!v.model || !v.model->quality) continue;
          json::object o = v.model->quality->Snapshot();
          o["version"] = v.version;
          out.push_back(std::move(o));
        }
        ex->ReplyJson(200, json::object{{"model", name}, {"versions", std::move(out)}});
      }};
  quality.admin = true;
  gateway->AddRoute(std::move(quality));
  gateway->AddRoute(
      {http::verb::get, "/v1/models", ErrorStyle::kClassic,
       "List served models, their versions and load state", "classic",
       [ctx](std::shared_ptr<Exchange> ex) {
         auto map = ctx->models->snapshot();
         json::array models;
         for (const auto& [name, versions] : map->models()) {
           json::array vs;
           for (const auto& v : versions) {
             json::object o{{"version", v.version}, {"ready", v.model != nullptr}};
             if (v.model) {
               o["platform"] = v.model->backend->platform();
               if (v.model->features) {
                 json::array names;
                 for (const auto& n : v.model->features->feature_names()) names.push_back(json::string(n));
                 o["features"] = std::move(names);
               }
             } else {
               o["error"] = v.status.message();
             }
             vs.push_back(std::move(o));
           }
           models.push_back(json::object{{"name", name}, {"versions", std::move(vs)}});
         }
         ex->ReplyJson(200, json::object{{"models", std::move(models)}});
       }});
}

}  // namespace mast
