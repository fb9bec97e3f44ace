// ServingMetrics: every metric family of the serving path, declared in one
// place. Label values are bounded: route templates (not raw paths), model
// names and versions from the repository, HTTP status codes.
//
// Thread-safety: the families are thread-safe; this struct only holds
// pointers into the registry, which must outlive it.
#ifndef MAST_MONITOR_SERVING_METRICS_H_
#define MAST_MONITOR_SERVING_METRICS_H_

#include "monitor/metrics.h"

namespace mast {

struct ServingMetrics {
  explicit ServingMetrics(MetricsRegistry* registry);

  // mast_requests_total{route,model,version,code}
  Family<Counter>* requests;
  // mast_request_duration_seconds{route,model,version}: receipt to response.
  Family<Histogram>* request_seconds;
  // mast_inference_duration_seconds{model,version}: backend run only.
  Family<Histogram>* inference_seconds;
  // mast_model_load_duration_seconds{model,version}: last load's duration.
  Family<Gauge>* model_load_seconds;
  // mast_model_loads_total{model,version,result}: result = success|failure.
  Family<Counter>* model_loads;
  // mast_model_ready{model,version}: 1 loaded and serving, 0 failed.
  Family<Gauge>* model_ready;
  // mast_models_loaded: loaded versions across all models.
  Gauge* models_loaded;
  // mast_feature_rows_total{model,version}: rows validated for /predict.
  Family<Counter>* feature_rows;
  // mast_feature_issues_total{model,version,field,kind}: data-quality
  // problems (see DataQuality).
  Family<Counter>* feature_issues;
  // mast_http_connections_open, mast_http_connections_rejected_total and
  // mast_http_requests_inflight are read from the server at scrape time.
};

}  // namespace mast

#endif  // MAST_MONITOR_SERVING_METRICS_H_
