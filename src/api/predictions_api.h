// The prediction log's API and the hook the serving routes call:
//   GET /api/v1/predictions?model=&version=&since=&until=&limit=
//       streams the logged rows as JSON lines (application/x-ndjson,
//       chunked); `since`/`until` are RFC 3339 times, `limit` a row count.
//       A management route (admin credentials).
//
// Ownership: the context (and its prediction log and worker pool) must
// outlive the gateway.
#ifndef MAST_API_PREDICTIONS_API_H_
#define MAST_API_PREDICTIONS_API_H_

#include <memory>

#include <boost/json/value.hpp>

#include "api/exchange.h"
#include "api/gateway.h"
#include "api/serving_context.h"
#include "predlog/prediction_log.h"

namespace mast {

void RegisterPredictionsApi(Gateway* gateway, ServingContext* context);

// Hands an answered request's rows to the prediction log (if there is one).
// Call after the reply was sent; never blocks.
void RecordPrediction(ServingContext* context, const Exchange& exchange,
                      PredictionEvent::Endpoint endpoint,
                      std::shared_ptr<const ModelVersion> model, boost::json::value inputs,
                      boost::json::value outputs, int64_t rows);

}  // namespace mast

#endif  // MAST_API_PREDICTIONS_API_H_
