// ServingContext: what the API handlers share: the model manager (whose
// ServingMap says what can be served), the scheduler, the metrics and the
// server-wide settings the APIs need.
//
// Ownership: borrowed pointers; main() owns every object and keeps it alive
// until the server has stopped.
#ifndef MAST_API_SERVING_CONTEXT_H_
#define MAST_API_SERVING_CONTEXT_H_

#include <string>

#include "models/model_manager.h"
#include "monitor/metrics.h"
#include "monitor/serving_metrics.h"
#include "scheduler/scheduler.h"

namespace mast {
class PredictionLog;
class RegistrySource;
class RegistryStore;
class WorkerPool;
}  // namespace mast

namespace mast {

struct ServingContext {
  ModelManager* models = nullptr;
  Scheduler* scheduler = nullptr;
  MetricsRegistry* registry = nullptr;
  ServingMetrics* metrics = nullptr;
  // Model that `POST /predict` serves; empty: the only model, if there is one.
  std::string default_model;
  // Reported by GET /v2.
  std::string server_version = "0.1.0";
  // Null without the registry: the OIP repository extension then answers 400.
  RegistrySource* registry_source = nullptr;
  RegistryStore* registry_store = nullptr;
  // Threads for blocking control-plane work (model loads, log reads).
  WorkerPool* control_workers = nullptr;
  // Null when the prediction log is off.
  PredictionLog* prediction_log = nullptr;
};

}  // namespace mast

#endif  // MAST_API_SERVING_CONTEXT_H_
