#include "api/predictions_api.h"

#include <charconv>

#include "common/logging.h"
#include "common/worker_pool.h"
#include "predlog/prediction_reader.h"

namespace mast {

namespace json = boost::json;

namespace {

constexpr size_t kChunkBytes = 256 * 1024;

// Reads the log on a worker thread, one chunk per Next().
class PredictionStream : public BodyStream,
                         public std::enable_shared_from_this<PredictionStream> {
 public:
  PredictionStream(PredictionLog* log, PredictionQuery query, WorkerPool* pool)
      : log_(log), reader_(log->options().dir, std::move(query)), pool_(pool) {}

  void Next(Deliver deliver) override {
    pool_->Post([self = shared_from_this(), deliver = std::move(deliver)] {
      if (!self->flushed_) {
        // Rows appended before the request are part of the answer.
        self->log_->Flush();
        self->flushed_ = true;
      }
      std::string chunk;
      auto more = self->reader_.ReadSome(&chunk, kChunkBytes);
      if (!more.ok()) {
        LogError("prediction log read failed", {{"error", more.status().message()}});
        return deliver(std::string(), false);
      }
      deliver(std::move(chunk), true);
    });
  }

 private:
  PredictionLog* log_;
  PredictionReader reader_;
  WorkerPool* pool_;
  bool flushed_ = false;  // Next() calls are sequential
};

StatusOr<std::optional<std::chrono::system_clock::time_point>> TimeParam(const Exchange& ex,
                                                                        std::string_view name) {
  auto text = ex.QueryParam(name);
  if (!text) return std::optional<std::chrono::system_clock::time_point>();
  auto t = ParseRfc3339(*text);
  if (!t.ok()) {
    return InvalidArgument("query parameter '" + std::string(name) + "': " + t.status().message());
  }
  return std::optional<std::chrono::system_clock::time_point>(*t);
}

void ListPredictions(ServingContext* ctx, const std::shared_ptr<Exchange>& ex) {
  if (!ctx->prediction_log) {
    return ex->ReplyError(409, StatusCode::kFailedPrecondition,
                          "the prediction log is off (see --prediction-log in mast serve --help)");
  }
  PredictionQuery query;
  query.model = ex->QueryParam("model").value_or("");
  query.version = ex->QueryParam("version").value_or("");
  auto since = TimeParam(*ex, "since");
  if (!since.ok()) return ex->ReplyError(since.status());
  auto until = TimeParam(*ex, "until");
  if (!until.ok()) return ex->ReplyError(until.status());
  query.since = *since;
  query.until = *until;
  if (auto limit = ex->QueryParam("limit")) {
    int64_t n = -1;
    auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), n);
    if (ec != std::errc() || end != limit->data() + limit->size() || n < 0) {
      return ex->ReplyError(400, StatusCode::kInvalidArgument,
                            "query parameter 'limit' must be a non-negative integer");
    }
    query.limit = n;
  }
  if (query.since && query.until && *query.until < *query.since) {
    return ex->ReplyError(400, StatusCode::kInvalidArgument,
                          "query parameter 'until' is before 'since'");
  }
  ex->ReplyStream(200, "application/x-ndjson",
                  std::make_shared<PredictionStream>(ctx->prediction_log, std::move(query),
                                                     ctx->control_workers));
}

}  // namespace

void RecordPrediction(ServingContext* ctx, const Exchange& ex,
                      PredictionEvent::Endpoint endpoint,
                      std::shared_ptr<const ModelVersion> model, json::value inputs,
                      json::value outputs, int64_t rows) {
  if (!ctx->prediction_log || rows <= 0) return;
  // Built in place: the JSON values keep their memory (the request's
  // arena) instead of being copied.
  PredictionEvent event{
      endpoint,
      ex.request_id,
      std::chrono::system_clock::now(),
      std::move(model),
      std::move(inputs),
      std::move(outputs),
      rows,
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - ex.start)
          .count(),
      ex.request.body().size() * 2};
  ctx->prediction_log->Append(std::move(event));
}

void RegisterPredictionsApi(Gateway* gateway, ServingContext* ctx) {
  RouteInfo list{http::verb::get, "/api/v1/predictions", ErrorStyle::kNative,
                 "Logged predictions as JSON lines (?model=&version=&since=&until=&limit=)",
                 "predictions",
                 [ctx](std::shared_ptr<Exchange> ex) { ListPredictions(ctx, ex); }};
  list.admin = true;
  gateway->AddRoute(std::move(list));
}

}  // namespace mast
