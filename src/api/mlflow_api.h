// The MLflow-compatible model registry REST API under /api/2.0/mlflow, so
// that MLflow clients (MlflowClient, the R and Java clients, curl scripts
// written for an MLflow server) can manage mast's registry. It keeps MLflow's
// own rules: RegisteredModel / ModelVersion JSON shapes (versions as strings,
// timestamps as integer milliseconds since the epoch), parameters in the
// query string for GET and in a JSON body otherwise (DELETE included), and
// errors as {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "..."} with
// MLflow's HTTP statuses (404 RESOURCE_DOES_NOT_EXIST, 400
// RESOURCE_ALREADY_EXISTS and INVALID_PARAMETER_VALUE, 501 NOT_IMPLEMENTED).
//
//   POST        registered-models/create              {name, tags, description}
//   GET         registered-models/get                 ?name=
//   GET|POST    registered-models/search              filter, max_results, page_token
//   PATCH       registered-models/update              {name, description}
//   DELETE      registered-models/delete              {name}
//   POST        registered-models/rename              501 (mast names are permanent)
//   POST        registered-models/set-tag             {name, key, value}
//   DELETE      registered-models/delete-tag          {name, key}
//   POST        registered-models/alias               {name, alias, version}
//   DELETE      registered-models/alias               {name, alias}
//   GET         registered-models/alias               ?name=&alias=
//   GET|POST    registered-models/get-latest-versions {name, stages}
//   POST        model-versions/create                 {name, source, run_id, tags, description}
//   GET         model-versions/get                    ?name=&version=
//   GET|POST    model-versions/search                 filter, max_results, page_token
//   PATCH       model-versions/update                 {name, version, description}
//   DELETE      model-versions/delete                 {name, version}
//   POST        model-versions/set-tag                {name, version, key, value}
//   DELETE      model-versions/delete-tag             {name, version, key}
//   GET         model-versions/get-download-uri       ?name=&version=
//   POST        model-versions/transition-stage       501 (mast has aliases, not stages)
//
// Where mast differs from an MLflow server (docs/api.md has the details):
//   1. A version's `source` must name an artifact already uploaded with
//      POST /api/v1/blobs: "sha256:<hex>" or "mast-blob:sha256:<hex>". Local
//      paths and remote URIs are refused (the server would otherwise read
//      files of its own choosing on a client's behalf).
//   2. Creating a version test-loads it before answering: the answer is READY
//      or FAILED_REGISTRATION with the reason in status_message, never
//      PENDING_REGISTRATION.
//   3. There are no stages: every version is in stage "None". Latest versions
//      are the newest READY version; asking for Staging/Production/Archived
//      finds nothing (use aliases).
//   4. A model or version an alias points at cannot be deleted
//      (INVALID_PARAMETER_VALUE naming the aliases).
//
// All routes are management routes (admin credentials). Handlers run their
// blocking work on the worker pool and answer from there.
#ifndef MAST_API_MLFLOW_API_H_
#define MAST_API_MLFLOW_API_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "api/gateway.h"
#include "common/worker_pool.h"
#include "registry/registry.h"

namespace mast {

// `registry` and `workers` must outlive the gateway. `on_change` (may be
// empty) runs after every successful mutation, on a worker thread.
void RegisterMlflowApi(Gateway* gateway, Registry* registry, WorkerPool* workers,
                       std::function<void()> on_change);

// Milliseconds since the Unix epoch of an RFC 3339 timestamp such as
// "2026-11-26T20:11:00.123Z" or "2026-11-26T21:11:00+01:00"; nullopt if the
// text is not one.
std::optional<int64_t> EpochMillisFromRfc3339(std::string_view text);

// SQL LIKE as MLflow filters use it: '%' matches any run of characters, '_'
// any one character; `ignore_case` for ILIKE (ASCII letters).
bool LikeMatch(std::string_view text, std::string_view pattern, bool ignore_case);

}  // namespace mast

#endif  // MAST_API_MLFLOW_API_H_
