#include "monitor/serving_metrics.h"

namespace mast {

ServingMetrics::ServingMetrics(MetricsRegistry* r)
    : requests(r->AddCounter("mast_requests_total",
                             "HTTP requests answered, by route, model, version "
                             "and status code.",
                             {"route", "model", "version", "code"})),
      request_seconds(r->AddHistogram(
          "mast_request_duration_seconds",
          "Time from a request's receipt to its response, in seconds.",
          {"route", "model", "version"}, &LatencyBuckets())),
      inference_seconds(r->AddHistogram(
          "mast_inference_duration_seconds",
          "Time spent in the model backend per request, in seconds.",
          {"model", "version"}, &LatencyBuckets())),
      model_load_seconds(r->AddGauge("mast_model_load_duration_seconds",
                                     "Duration of the last load of a model "
                                     "version, in seconds.",
                                     {"model", "version"})),
      model_loads(r->AddCounter("mast_model_loads_total",
                                "Model version loads attempted, by result.",
                                {"model", "version", "result"})),
      model_ready(r->AddGauge("mast_model_ready",
                              "1 if the model version is loaded and serving, "
                              "0 if it failed to load.",
                              {"model", "version"})),
      models_loaded(r->AddGauge("mast_models_loaded",
                                "Model versions loaded and serving.")
                        ->WithLabels({})),
      feature_rows(r->AddCounter("mast_feature_rows_total",
                                 "Rows of named features validated, by model and version.",
                                 {"model", "version"})),
      feature_issues(r->AddCounter(
          "mast_feature_issues_total",
          "Data-quality problems in incoming rows, by field and kind (missing, "
          "out_of_range, unseen_category, type_error, undeclared).",
          {"model", "version", "field", "kind"})) {}

}  // namespace mast
