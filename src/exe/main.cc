// mast: the command-line entry point. Only glue: parses flags and
// environment, builds the subsystems, wires them together and runs them.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include <boost/json.hpp>

#include "common/json_writer.h"
#include "api/classic_api.h"
#include "cli/config_file.h"
#include "cli/features_cli.h"
#include "cli/predictions_cli.h"
#include "cli/models_cli.h"
#include "cli/perf_cli.h"
#include "api/gateway.h"
#include "api/mlflow_api.h"
#include "api/oip_api.h"
#include "api/openapi.h"
#include "api/predictions_api.h"
#include "api/registry_api.h"
#include "api/serving_context.h"
#include "common/cpus.h"
#include "common/logging.h"
#include "common/worker_pool.h"
#include "models/model_manager.h"
#include "predlog/prediction_log.h"
#include "registry/registry.h"
#include "registry/registry_source.h"
#include "store/blob_store.h"
#include "store/migrations.h"
#include "store/registry_store.h"
#include "store/sql_database.h"
#include "monitor/metrics.h"
#include "monitor/serving_metrics.h"
#include "scheduler/batching_scheduler.h"
#include "scheduler/scheduler.h"
#include "server/http_server.h"

namespace mast {
namespace {

constexpr const char* kVersion = "0.1.0";

struct ServeConfig {
  std::string model_path;
  std::string model_name;
  std::string model_repository;
  std::string default_model;
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string log_level = "INFO";
  int io_threads = 0;  // 0: one per usable CPU
  int intra_op_threads = 1;
  int batch_threads = 0;  // 0: half the usable CPUs, at least one
  int busy_poll_us = 100;
  bool busy_poll_set = false;  // by a flag, the environment or the file
  std::string pin_io_threads = "auto";  // auto, on or off
  int write_coalesce_us = 100;
  size_t max_body_bytes = 4 * 1024 * 1024;
  int max_connections = 1024;
  double header_timeout_s = 10;
  double body_timeout_s = 30;
  double idle_timeout_s = 30;
  double drain_timeout_s = 10;
  bool print_config = false;
  // Registry.
  std::string data_dir;      // SQLite store and blobs; default below
  std::string store;         // postgresql://... to share the registry
  std::string blob_dir;      // default <data_dir>/blobs
  std::string serve_alias = "production";
  double registry_poll_s = 1;
  std::string admin_token;   // secret: never printed or logged
  size_t max_upload_bytes = size_t{2} << 30;
  // Prediction log: "" = <data-dir>/predictions when there is a data dir,
  // "off", or a directory.
  std::string prediction_log;
  double prediction_sample_rate = 1;
  uint64_t prediction_segment_bytes = 64ull << 20;
  double prediction_segment_seconds = 3600;
  uint64_t prediction_retention_bytes = 1ull << 30;
  double prediction_retention_hours = 168;
  std::string pii_key;  // secret (MAST_PII_KEY): never printed or logged
};

// Where the prediction log goes; empty when it is off.
std::string PredictionLogDir(const ServeConfig& c) {
  if (c.prediction_log == "off") return "";
  if (!c.prediction_log.empty()) return c.prediction_log;
  return c.data_dir.empty() ? "" : c.data_dir + "/predictions";
}

// The registry runs unless only model files were given; its data lives in
// --data-dir, else $XDG_DATA_HOME/mast, else ~/.local/share/mast.
bool RegistryEnabled(const ServeConfig& c) {
  return !c.data_dir.empty() || !c.store.empty() ||
         (c.model_path.empty() && c.model_repository.empty());
}

std::string DefaultDataDir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/mast";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::string(home) + "/.local/share/mast";
  }
  return "mast-data";
}

// A connection string with its password replaced, for logs.
std::string MaskDsn(const std::string& dsn) {
  std::string out = dsn;
  // postgresql://user:secret@host -> postgresql://user:***@host
  size_t scheme = out.find("://");
  size_t at = out.find('@');
  if (scheme != std::string::npos && at != std::string::npos) {
    size_t colon = out.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  size_t pw = out.find("password=");
  if (pw != std::string::npos) {
    size_t end = out.find(' ', pw);
    out.replace(pw + 9, (end == std::string::npos ? out.size() : end) - pw - 9, "***");
  }
  return out;
}

boost::json::object ConfigJson(const ServeConfig& c) {
  return {{"model_path", c.model_path},
          {"model_name", c.model_name},
          {"model_repository", c.model_repository},
          {"default_model", c.default_model},
          {"host", c.host},
          {"port", c.port},
          {"log_level", c.log_level},
          {"io_threads", c.io_threads},
          {"intra_op_threads", c.intra_op_threads},
          {"batch_threads", c.batch_threads},
          {"busy_poll_us", c.busy_poll_us},
          {"pin_io_threads", c.pin_io_threads},
          {"write_coalesce_us", c.write_coalesce_us},
          {"max_body_bytes", c.max_body_bytes},
          {"max_connections", c.max_connections},
          {"header_timeout_seconds", c.header_timeout_s},
          {"body_timeout_seconds", c.body_timeout_s},
          {"idle_timeout_seconds", c.idle_timeout_s},
          {"drain_timeout_seconds", c.drain_timeout_s},
          {"registry", RegistryEnabled(c)},
          {"data_dir", c.data_dir},
          {"store", MaskDsn(c.store)},
          {"blob_dir", c.blob_dir},
          {"serve_alias", c.serve_alias},
          {"registry_poll_seconds", c.registry_poll_s},
          {"admin_token", c.admin_token.empty() ? "" : "***"},
          {"max_upload_bytes", c.max_upload_bytes},
          {"prediction_log", PredictionLogDir(c)},
          {"prediction_sample_rate", c.prediction_sample_rate},
          {"prediction_segment_bytes", c.prediction_segment_bytes},
          {"prediction_segment_seconds", c.prediction_segment_seconds},
          {"prediction_retention_bytes", c.prediction_retention_bytes},
          {"prediction_retention_hours", c.prediction_retention_hours},
          {"pii_key", c.pii_key.empty() ? "" : "***"}};
}

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

StatusOr<std::unique_ptr<SqlDatabase>> OpenStore(const ServeConfig& config) {
  std::unique_ptr<SqlDatabase> db;
  if (!config.store.empty()) {
    if (config.store.rfind("postgres", 0) != 0 && config.store.find("host=") == std::string::npos) {
      return InvalidArgument("--store must be a PostgreSQL connection string "
                             "(postgresql://user@host:port/db)");
    }
    ASSIGN_OR_RETURN(db, OpenPostgresDatabase(config.store));
  } else {
    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
    if (ec) {
      return Unavailable("cannot create data directory '" + config.data_dir + "': " +
                         ec.message());
    }
    ASSIGN_OR_RETURN(db, OpenSqliteDatabase(config.data_dir + "/mast.db"));
  }
  ASSIGN_OR_RETURN(int schema, ApplyMigrations(db.get()));
  LogInfo("store open", {{"dialect", db->dialect()},
                         {"where", config.store.empty() ? config.data_dir + "/mast.db"
                                                        : MaskDsn(config.store)},
                         {"schema_version", schema}});
  return db;
}

int Serve(ServeConfig config) {
  auto level = ParseLogLevel(config.log_level);
  if (!level.ok()) {
    std::cerr << "mast: " << level.status().message() << "\n";
    return 2;
  }
  if (config.print_config) {
    std::cout << ToJson(ConfigJson(config)) << "\n";
    return 0;
  }
  if (!config.model_path.empty() && !config.model_repository.empty()) {
    std::cerr << "mast: give either MODEL_PATH or --model-repository, not both\n";
    return 2;
  }
  if (RegistryEnabled(config)) {
    if (config.data_dir.empty()) config.data_dir = DefaultDataDir();
    if (config.blob_dir.empty()) config.blob_dir = config.data_dir + "/blobs";
  }
  // Signals are taken by one waiting thread; block them everywhere else.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  InitLogging(*level);
  const auto started = std::chrono::steady_clock::now();
  LogInfo("starting", {{"version", kVersion}, {"config", ConfigJson(config)}});

  MetricsRegistry metrics_registry;
  ServingMetrics metrics(&metrics_registry);
  BackendOptions backend_options;
  backend_options.intra_op_threads = config.intra_op_threads;
  ModelManager models(backend_options, &metrics);

  std::vector<ModelSource> sources;
  if (!config.model_path.empty()) {
    // Named by --model-name, else by the file ("churn.onnx" -> churn), else
    // by its folder ("churn/model.onnx" -> churn).
    std::string name = config.model_name;
    if (name.empty()) {
      const std::filesystem::path path = std::filesystem::absolute(config.model_path);
      name = path.stem().string();
      if (name == "model" && path.has_parent_path()) {
        name = path.parent_path().filename().string();
      }
    }
    sources.push_back(SingleModelSource(config.model_path, name));
    if (config.default_model.empty()) config.default_model = name;
  } else if (!config.model_repository.empty()) {
    auto scanned = ScanModelRepository(config.model_repository);
    if (!scanned.ok()) {
      LogError("cannot read model repository", {{"error", scanned.status().message()}});
      FlushLogs();
      return 1;
    }
    sources = std::move(scanned).value();
  }

  // The registry: store, blobs, and the source that serves its aliases.
  std::unique_ptr<SqlDatabase> database;
  std::unique_ptr<RegistryStore> registry_store;
  std::unique_ptr<BlobStore> blob_store;
  std::unique_ptr<Registry> registry;
  std::unique_ptr<RegistrySource> registry_source;
  if (RegistryEnabled(config)) {
    auto opened = OpenStore(config);
    if (!opened.ok()) {
      LogError("cannot open the store", {{"error", opened.status().message()}});
      FlushLogs();
      return 1;
    }
    database = std::move(opened).value();
    auto blobs = BlobStore::Create(config.blob_dir);
    if (!blobs.ok()) {
      LogError("cannot open the blob store", {{"error", blobs.status().message()}});
      FlushLogs();
      return 1;
    }
    blob_store = std::move(blobs).value();
    registry_store = std::make_unique<RegistryStore>(database.get());
    // A push whose test-load a crash cut short stays PENDING: settle it. On
    // SQLite this process is the only writer; replicas sharing PostgreSQL
    // may be test-loading right now, so only old ones count there.
    {
      const auto cutoff = std::chrono::system_clock::now() -
                          (config.store.empty() ? std::chrono::seconds(0)
                                                : std::chrono::seconds(600));
      auto settled = registry_store->FailStalePending(Rfc3339(cutoff));
      if (!settled.ok()) {
        LogWarning("cannot settle interrupted pushes", {{"error", settled.status().message()}});
      } else if (*settled > 0) {
        LogWarning("interrupted pushes marked FAILED", {{"versions", *settled}});
      }
    }
    registry = std::make_unique<Registry>(registry_store.get(), blob_store.get(), backend_options);
  }
  std::vector<Status> loaded;
  if (registry) {
    RegistrySourceOptions source_options;
    source_options.serve_alias = config.serve_alias;
    source_options.poll_interval = Millis(config.registry_poll_s);
    registry_source = std::make_unique<RegistrySource>(registry.get(), &models, sources,
                                                       source_options);
    loaded = registry_source->Start();
  } else {
    loaded = models.Load(sources);
  }
  if (!config.model_path.empty() && !loaded[0].ok()) {
    LogError("cannot serve the model", {{"path", config.model_path},
                                        {"error", loaded[0].message()}});
    FlushLogs();
    return 1;
  }

  // The prediction log; its PII hash key comes from MAST_PII_KEY, else from
  // a key file created once beside the registry data.
  std::unique_ptr<PredictionLog> prediction_log;
  if (const std::string dir = PredictionLogDir(config); !dir.empty()) {
    PredictionLogOptions log_options;
    log_options.dir = dir;
    log_options.sample_rate = config.prediction_sample_rate;
    log_options.segment_max_bytes = config.prediction_segment_bytes;
    log_options.segment_max_age =
        std::chrono::seconds(static_cast<int64_t>(config.prediction_segment_seconds));
    log_options.retention_bytes = config.prediction_retention_bytes;
    log_options.retention_age =
        std::chrono::seconds(static_cast<int64_t>(config.prediction_retention_hours * 3600));
    StatusOr<std::string> key = config.pii_key;
    if (config.pii_key.empty()) {
      key = LoadOrCreatePiiKey((config.data_dir.empty() ? DefaultDataDir() : config.data_dir) +
                               "/pii.key");
    }
    StatusOr<std::unique_ptr<PredictionLog>> opened = key.status();
    if (key.ok()) {
      log_options.pii_key = *key;
      opened = PredictionLog::Open(std::move(log_options), &metrics_registry);
    }
    if (!opened.ok()) {
      LogError("cannot open the prediction log", {{"error", opened.status().message()}});
      FlushLogs();
      return 1;
    }
    prediction_log = std::move(opened).value();
  }

  // The CPUs this process may use: a container's cpuset or `taskset` may
  // give it fewer than the machine has, and its cgroup's CPU quota (a
  // Kubernetes CPU limit) may allow less time than those CPUs have.
  const std::vector<int> cpus = UsableCpus();
  const std::optional<double> cpu_quota = CgroupCpuQuota();
  const bool quota_binds = cpu_quota && *cpu_quota < static_cast<double>(cpus.size());
  const int cpu_budget = quota_binds ? std::max(1, static_cast<int>(std::ceil(*cpu_quota)))
                                     : static_cast<int>(cpus.size());
  // Under a quota smaller than the CPUs, polling time counts against it, and
  // a throttled process stalls for the rest of the quota period (100 ms by
  // default): no busy polling unless asked for.
  const int busy_poll_us = quota_binds && !config.busy_poll_set ? 0 : config.busy_poll_us;
  BatchingSchedulerOptions batching;
  // By default half the cores: the I/O threads (and the clients on the
  // machine) keep the rest, and concurrent batches of a large model do not
  // compete for one core's worth of memory bandwidth each. On 2 cores one
  // batch thread gave 9.5-9.8k req/s on the benchmark MLP against 6.9-8.1k
  // with two, and a lower p99 (bench/targets.sh, target 4).
  batching.executor_threads =
      config.batch_threads > 0
          ? config.batch_threads
          : std::max(1, cpu_budget / 2);
  auto scheduler = MakeBatchingScheduler(batching, &metrics_registry);
  ServingContext context;
  context.models = &models;
  context.scheduler = scheduler.get();
  context.registry = &metrics_registry;
  context.metrics = &metrics;
  context.default_model = config.default_model;
  context.server_version = kVersion;
  WorkerPool control_workers(2);
  context.control_workers = &control_workers;
  context.registry_source = registry_source.get();
  context.registry_store = registry_store.get();
  context.prediction_log = prediction_log.get();

  GatewayOptions gateway_options;
  gateway_options.admin_token = config.admin_token;
  gateway_options.max_upload_bytes = config.max_upload_bytes;
  // Uploads are written to disk as they arrive, not held in memory.
  if (blob_store) gateway_options.spool_dir = blob_store->temp_dir();
  Gateway gateway(&metrics, gateway_options);
  RegisterClassicApi(&gateway, &context);
  RegisterOipApi(&gateway, &context);
  if (registry) {
    RegistrySource* source = registry_source.get();
    RegisterRegistryApi(&gateway, registry.get(), &control_workers,
                        [source] { source->Notify(); });
    RegisterMlflowApi(&gateway, registry.get(), &control_workers, [source] { source->Notify(); });
  }
  RegisterPredictionsApi(&gateway, &context);
  RegisterOperationalRoutes(&gateway, &context);

  HttpServerOptions options;
  options.host = config.host;
  options.port = static_cast<uint16_t>(config.port);
  options.io_threads = config.io_threads > 0 ? config.io_threads : cpu_budget;
  options.max_body_bytes = config.max_body_bytes;
  options.max_connections = config.max_connections;
  options.busy_poll = std::chrono::microseconds(busy_poll_us);
  // auto: pinned when the I/O threads, polling, own the process's CPUs one
  // each (by default on a machine or cpuset the server has to itself; not
  // under a CPU quota smaller than its CPUs, which leaves fewer threads).
  options.pin_io_threads =
      config.pin_io_threads == "on" ||
      (config.pin_io_threads == "auto" && options.io_threads > 1 &&
       options.io_threads == static_cast<int>(cpus.size()) && busy_poll_us > 0);
  options.write_coalesce = std::chrono::microseconds(config.write_coalesce_us);
  Scheduler* batches = scheduler.get();
  options.suspend_busy_poll = [batches] { return batches->BackgroundWork(); };
  options.header_timeout = Millis(config.header_timeout_s);
  options.body_timeout = Millis(config.body_timeout_s);
  options.idle_timeout = Millis(config.idle_timeout_s);
  auto server = HttpServer::Create(options, &gateway);
  if (!server.ok()) {
    LogError("cannot start the HTTP server", {{"error", server.status().message()}});
    FlushLogs();
    return 1;
  }
  HttpServer* http_server = server->get();
  metrics_registry.AddCollector([http_server](std::string* out) {
    AppendScalarMetric(out, "mast_http_connections_open", "gauge", "Open client connections.",
                       static_cast<double>(http_server->active_connections()));
    AppendScalarMetric(out, "mast_http_connections_rejected_total", "counter",
                       "Connections closed at once because the connection cap was reached.",
                       static_cast<double>(http_server->rejected_connections()));
    AppendScalarMetric(out, "mast_http_requests_inflight", "gauge",
                       "Requests read and not yet answered.",
                       static_cast<double>(http_server->inflight_requests()));
    AppendScalarMetric(out, "mast_log_lines_dropped_total", "counter",
                       "Log lines dropped because stderr fell 64 MiB behind.",
                       static_cast<double>(LogLinesDropped()));
    AppendScalarMetric(out, "mast_log_writer_fell_behind_total", "counter",
                       "Times the idle-priority log writer fell 1 MiB behind (busy cores) "
                       "and a normal-priority thread wrote the backlog.",
                       static_cast<double>(LogWriterFellBehind()));
  });
  metrics_registry.AddCollector(RenderProcessMetrics);

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    LogInfo("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                              {"inflight", http_server->inflight_requests()}});
    // Requests already read (or being read) still run: the server stops
    // accepting and closes idle connections, the scheduler keeps going.
    http_server->Shutdown(Millis(config.drain_timeout_s), [](int abandoned) {
      if (abandoned > 0) {
        LogWarning("drain deadline passed", {{"abandoned_requests", abandoned}});
      }
    });
  });

  const double ready_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
          .count();
  LogInfo("listening", {{"host", config.host},
                        {"port", http_server->port()},
                        {"io_threads", options.io_threads},
                        {"io_threads_pinned", options.pin_io_threads},
                        {"busy_poll_us", busy_poll_us},
                        {"cpu_quota", cpu_quota ? boost::json::value(*cpu_quota)
                                                : boost::json::value(nullptr)},
                        {"models_loaded", models.snapshot()->loaded_count()},
                        {"startup_ms", ready_ms}});
  FlushLogs();  // the start-up lines now, not with the next batch
  http_server->Run();
  if (registry_source) registry_source->Stop();
  scheduler->Stop();
  if (prediction_log) prediction_log->Flush();
  LogInfo("stopped");
  FlushLogs();
  signal_thread.join();
  return 0;
}

}  // namespace
}  // namespace mast

int main(int argc, char** argv) {
  CLI::App app{"mast: deploy and operate machine-learning models"};
  app.set_version_flag("--version", mast::kVersion);
  app.require_subcommand(1);

  mast::ServeConfig config;
  CLI::App* serve = app.add_subcommand("serve", "Serve models over HTTP");
  serve->add_option("--model-path", config.model_path,
                    "One model file to serve (.onnx, .json, .ubj)")
      ->envname("MODEL_PATH");
  serve->add_option("--model-name", config.model_name,
                    "Name of the model given by --model-path (default: file stem)")
      ->envname("MAST_MODEL_NAME");
  serve->add_option("--model-repository", config.model_repository,
                    "Folder of models: DIR/<name>/<version>/model.{onnx,json,ubj}")
      ->envname("MAST_MODEL_REPOSITORY");
  serve->add_option("--default-model", config.default_model,
                    "Model that POST /predict serves (default: the only one)")
      ->envname("MAST_DEFAULT_MODEL");
  serve->add_option("--host", config.host, "Address to bind")
      ->envname("MAST_HOST")->capture_default_str();
  serve->add_option("--port", config.port, "Port to bind (0: any free port)")
      ->envname("PORT")->capture_default_str()->check(CLI::Range(0, 65535));
  serve->add_option("--log-level", config.log_level, "DEBUG, INFO, WARNING or ERROR")
      ->envname("LOG_LEVEL")->capture_default_str();
  serve->add_option("--io-threads", config.io_threads,
                    "Threads serving HTTP and running inline inference (0: one per CPU the "
                    "process may use)")
      ->envname("MAST_IO_THREADS")->capture_default_str()->check(CLI::Range(0, 256));
  serve->add_option("--pin-io-threads", config.pin_io_threads,
                    "Pin each I/O thread to its own CPU: on, off, or auto (when there are as "
                    "many I/O threads as CPUs the process may use, and they busy-poll)")
      ->envname("MAST_PIN_IO_THREADS")->capture_default_str()
      ->check(CLI::IsMember({"auto", "on", "off"}));
  serve->add_option("--busy-poll-us", config.busy_poll_us,
                    "Microseconds an idle I/O thread keeps polling before it sleeps (0: never)")
      ->envname("MAST_BUSY_POLL_US")->capture_default_str()->check(CLI::Range(0, 1000000));
  serve->add_option("--write-coalesce-us", config.write_coalesce_us,
                    "Microseconds a quick answer may wait to be sent with the other answers "
                    "of its I/O thread's round (0: send each at once)")
      ->envname("MAST_WRITE_COALESCE_US")->capture_default_str()->check(CLI::Range(0, 100000));
  serve->add_option("--batch-threads", config.batch_threads,
                    "Threads running batches of models with dynamic batching "
                    "(0: half the cores, at least one)")
      ->envname("MAST_BATCH_THREADS")->capture_default_str()->check(CLI::Range(0, 256));
  serve->add_option("--intra-op-threads", config.intra_op_threads,
                    "Threads one inference may use inside the engine")
      ->envname("MAST_INTRA_OP_THREADS")->capture_default_str()->check(CLI::Range(1, 256));
  serve->add_option("--max-body-bytes", config.max_body_bytes,
                    "Largest request body accepted (413 above)")
      ->envname("MAST_MAX_BODY_BYTES")->capture_default_str();
  serve->add_option("--max-connections", config.max_connections,
                    "Open connections allowed; more are closed at once")
      ->envname("MAST_MAX_CONNECTIONS")->capture_default_str()->check(CLI::Range(1, 1000000));
  serve->add_option("--header-timeout", config.header_timeout_s,
                    "Seconds to receive a request's headers")
      ->envname("MAST_HEADER_TIMEOUT")->capture_default_str()->check(CLI::PositiveNumber);
  serve->add_option("--body-timeout", config.body_timeout_s,
                    "Seconds to receive a request's body")
      ->envname("MAST_BODY_TIMEOUT")->capture_default_str()->check(CLI::PositiveNumber);
  serve->add_option("--idle-timeout", config.idle_timeout_s,
                    "Seconds an idle keep-alive connection stays open")
      ->envname("MAST_IDLE_TIMEOUT")->capture_default_str()->check(CLI::PositiveNumber);
  serve->add_option("--drain-timeout", config.drain_timeout_s,
                    "Seconds to finish in-flight requests after SIGTERM")
      ->envname("MAST_DRAIN_TIMEOUT")->capture_default_str()->check(CLI::NonNegativeNumber);
  serve->add_option("--data-dir", config.data_dir,
                    "Registry data (SQLite store, blobs); default ~/.local/share/mast")
      ->envname("MAST_DATA_DIR");
  serve->add_option("--store", config.store,
                    "PostgreSQL connection string to share the registry between replicas")
      ->envname("MAST_STORE");
  serve->add_option("--blob-dir", config.blob_dir,
                    "Model artifacts (default <data-dir>/blobs; shared by replicas)")
      ->envname("MAST_BLOB_DIR");
  serve->add_option("--serve-alias", config.serve_alias,
                    "Alias whose version each registered model serves")
      ->envname("MAST_SERVE_ALIAS")->capture_default_str();
  serve->add_option("--registry-poll", config.registry_poll_s,
                    "Seconds between checks for registry changes made by other replicas")
      ->envname("MAST_REGISTRY_POLL")->capture_default_str()->check(CLI::PositiveNumber);
  serve->add_option("--max-upload-bytes", config.max_upload_bytes,
                    "Largest model artifact accepted by POST /api/v1/blobs")
      ->envname("MAST_MAX_UPLOAD_BYTES")->capture_default_str();
  serve->add_option("--prediction-log", config.prediction_log,
                    "Prediction log directory, or 'off' (default <data-dir>/predictions when "
                    "the registry runs, else off)")
      ->envname("MAST_PREDICTION_LOG");
  serve->add_option("--prediction-sample-rate", config.prediction_sample_rate,
                    "Fraction of scored rows written to the prediction log")
      ->envname("MAST_PREDICTION_SAMPLE_RATE")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  serve->add_option("--prediction-segment-bytes", config.prediction_segment_bytes,
                    "Prediction log segment size before a new one starts")
      ->envname("MAST_PREDICTION_SEGMENT_BYTES")->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  serve->add_option("--prediction-segment-seconds", config.prediction_segment_seconds,
                    "Prediction log segment age before a new one starts")
      ->envname("MAST_PREDICTION_SEGMENT_SECONDS")->capture_default_str()
      ->check(CLI::Range(1.0, 1e9));
  serve->add_option("--prediction-retention-bytes", config.prediction_retention_bytes,
                    "Prediction log size kept; the oldest segments go first")
      ->envname("MAST_PREDICTION_RETENTION_BYTES")->capture_default_str();
  serve->add_option("--prediction-retention-hours", config.prediction_retention_hours,
                    "Age after which prediction log segments are deleted")
      ->envname("MAST_PREDICTION_RETENTION_HOURS")->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve->add_flag("--print-config", config.print_config,
                  "Print the effective configuration as JSON and exit");
  std::string config_file;
  serve->add_option("--config", config_file,
                    "YAML file of settings (flag names without '--'); flags and their "
                    "environment variables win over it")
      ->envname("MAST_CONFIG");

  mast::AddRegistryCommands(&app);
  mast::AddFeatureCommands(&app);
  mast::AddPredictionCommands(&app);
  mast::AddPerfCommands(&app);

  // Secrets come from the environment only (never a flag: flags show in ps).
  if (const char* token = std::getenv("MAST_ADMIN_TOKEN")) config.admin_token = token;
  if (const char* key = std::getenv("MAST_PII_KEY")) config.pii_key = key;

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (serve->parsed()) {
    if (!config_file.empty()) {
      if (mast::Status applied = mast::ApplyConfigFile(serve, config_file); !applied.ok()) {
        std::cerr << "mast: " << applied.message() << "\n";
        return 2;
      }
    }
    config.busy_poll_set = serve->get_option("--busy-poll-us")->count() > 0;
    return mast::Serve(config);
  }
  int code = mast::RunRegistryCommands();
  if (code < 0) code = mast::RunFeatureCommands();
  if (code < 0) code = mast::RunPredictionCommands();
  if (code < 0) code = mast::RunPerfCommands();
  return code >= 0 ? code : 2;
}
