// The model registry's REST API under /api/v1 (management routes: they need
// the admin credentials). Handlers hand their blocking work (database, disk,
// test-loading a pushed model) to a worker pool and answer from there.
//
//   POST   /api/v1/blobs                                  upload an artifact (raw body)
//   POST   /api/v1/models                                 create a registered model
//   GET    /api/v1/models                                 list (filter, page_size, page_token)
//   GET    /api/v1/models/{model}                         get
//   PATCH  /api/v1/models/{model}                         update the description
//   DELETE /api/v1/models/{model}                         delete (409 while aliased)
//   PUT    /api/v1/models/{model}/tags/{key}              set a tag
//   DELETE /api/v1/models/{model}/tags/{key}              delete a tag
//   POST   /api/v1/models/{model}/versions                create a version from a blob
//   GET    /api/v1/models/{model}/versions                list
//   GET    /api/v1/models/{model}/versions/{version}      get
//   PATCH  /api/v1/models/{model}/versions/{version}      update the description
//   DELETE /api/v1/models/{model}/versions/{version}      delete (409 while aliased)
//   PUT    /api/v1/models/{model}/versions/{version}/tags/{key}
//   DELETE /api/v1/models/{model}/versions/{version}/tags/{key}
//   PUT    /api/v1/models/{model}/aliases/{alias}         point at {"version": N}
//   GET    /api/v1/models/{model}/aliases/{alias}         the version it points at
//   DELETE /api/v1/models/{model}/aliases/{alias}
//   GET    /api/v1/models/{model}/alias-history           who moved which alias when
#ifndef MAST_API_REGISTRY_API_H_
#define MAST_API_REGISTRY_API_H_

#include "api/gateway.h"
#include "common/worker_pool.h"
#include "registry/registry.h"

namespace mast {

// `registry` and `workers` must outlive the gateway. `on_change` (may be
// empty) runs after every successful mutation, on a worker thread (the
// serving side uses it to pick up alias changes at once).
void RegisterRegistryApi(Gateway* gateway, Registry* registry, WorkerPool* workers,
                         std::function<void()> on_change);

}  // namespace mast

#endif  // MAST_API_REGISTRY_API_H_
