// `mast models ...` and `mast gc` against a real server, as a user runs them.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "common/cpus.h"
#include "e2e/e2e_util.h"
#include "e2e/http_client.h"

namespace mast_e2e {
namespace {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = ServerProcess::Start({"serve", "--port", "0", "--data-dir", data_.path().string(),
                                    "--registry-poll", "0.2"},
                                   {{"MAST_ADMIN_TOKEN", "s3cret-token"}}, &error);
    ASSERT_NE(server_, nullptr) << error;
    env_ = "MAST_SERVER=http://127.0.0.1:" + std::to_string(server_->port()) +
           " MAST_TOKEN=s3cret-token";
  }
  CliRun Cli(const std::string& args) { return RunCli(args, env_); }

  TempDir data_;
  std::unique_ptr<ServerProcess> server_;
  std::string env_;
};

const std::string kChurn = FixtureDir("logreg20_manifest") + "/model.onnx";

TEST_F(CliTest, PushWithAliasServesTheModel) {
  auto r = Cli("models push churn " + kChurn + " --alias production --run-id run-42 --tag team=ml");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("READY"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("production"), std::string::npos) << r.out;
  // The manifest beside the file was sent: named features work.
  HttpClient client(server_->port());
  const auto expected = Expected("logreg20_manifest");
  HttpResult answer;
  for (int i = 0; i < 50; ++i) {
    answer = client.Post("/v1/models/churn/predict", Str(NamedRow(expected, 0)));
    if (answer.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(answer.status, 200) << answer.Describe();
  EXPECT_EQ(answer.Json().at("prediction").at(0), expected.at("label").at(0));

  auto show = Cli("models show churn --json");
  ASSERT_EQ(show.exit_code, 0) << show.out;
  auto shown = json::parse(show.out).as_object();
  EXPECT_EQ(shown.at("aliases").at("production").as_int64(), 1);
  const auto& v1 = shown.at("versions").at(0).as_object();
  EXPECT_EQ(v1.at("run_id").as_string(), "run-42");
  EXPECT_EQ(v1.at("tags").at("team").as_string(), "ml");
}

TEST_F(CliTest, FailuresExitOneWithOneLineNamingTheCause) {
  auto corrupt = Cli("models push churn " + FixtureDir("corrupt") + "/model.onnx");
  EXPECT_EQ(corrupt.exit_code, 1);
  EXPECT_NE(corrupt.out.find("failed its test load"), std::string::npos) << corrupt.out;
  EXPECT_NE(corrupt.out.find("Protobuf parsing failed"), std::string::npos);

  auto missing_file = Cli("models push churn /nonexistent/model.onnx");
  EXPECT_EQ(missing_file.exit_code, 1);
  EXPECT_NE(missing_file.out.find("/nonexistent/model.onnx"), std::string::npos);

  auto unknown = Cli("models show nobody");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.out.find("model 'nobody' does not exist"), std::string::npos);

  // Version 1 of churn FAILED above: it cannot take an alias.
  auto alias = Cli("models alias churn production 1");
  EXPECT_EQ(alias.exit_code, 1);
  EXPECT_NE(alias.out.find("FAILED"), std::string::npos) << alias.out;

  auto no_token = RunCli("models list",
                         "MAST_SERVER=http://127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_EQ(no_token.exit_code, 1);
  EXPECT_NE(no_token.out.find("MAST_TOKEN"), std::string::npos) << no_token.out;

  auto down = RunCli("models list", "MAST_SERVER=http://127.0.0.1:1");
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.out.find("cannot reach"), std::string::npos) << down.out;

  EXPECT_EQ(Cli("models").exit_code, 2);
  EXPECT_EQ(Cli("models push onlyname").exit_code, 2);
  // The token never appears in anything the server logged.
  EXPECT_EQ(server_->Log().find("s3cret-token"), std::string::npos);
}

TEST_F(CliTest, AliasDeleteListAndGc) {
  ASSERT_EQ(Cli("models push churn " + kChurn + " --alias production").exit_code, 0);
  ASSERT_EQ(Cli("models push churn " + FixtureDir("logreg20") + "/model.onnx").exit_code, 0);
  auto moved = Cli("models alias churn production 2 --json");
  ASSERT_EQ(moved.exit_code, 0) << moved.out;
  EXPECT_EQ(json::parse(moved.out).at("version").as_int64(), 2);

  auto refused = Cli("models delete churn --version 2");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.out.find("production"), std::string::npos) << refused.out;
  ASSERT_EQ(Cli("models delete churn --version 1").exit_code, 0);

  auto list = Cli("models list --json");
  ASSERT_EQ(list.exit_code, 0) << list.out;
  auto models = json::parse(list.out).as_array();
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0].at("latest_version").as_int64(), 2);

  // Version 1's file is referenced by nothing now.
  auto gc = Cli("gc --min-age 0 --json");
  ASSERT_EQ(gc.exit_code, 0) << gc.out;
  EXPECT_EQ(json::parse(gc.out).at("removed").as_array().size(), 1u);
  EXPECT_EQ(json::parse(gc.out).at("kept").as_int64(), 1);
}

TEST_F(CliTest, ImportLoadsARepositoryFolder) {
  TempDir repo;
  AddModel(repo.path(), "iris", "iris_forest");
  AddModel(repo.path(), "churn", "logreg20_manifest");
  auto r = Cli("models import " + repo.path().string() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto imported = json::parse(r.out).as_array();
  ASSERT_EQ(imported.size(), 2u);
  for (const auto& v : imported) {
    EXPECT_EQ(v.at("status").as_string(), "READY");
    EXPECT_EQ(v.at("aliases").at(0).as_string(), "production");
  }
  HttpClient client(server_->port());
  HttpResult ready;
  for (int i = 0; i < 50; ++i) {
    ready = client.Get("/v2/models/iris/ready");
    if (ready.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(ready.status, 200) << ready.Describe();
}

// `mast serve --config FILE`: settings from a YAML file, under the flags and
// their environment variables; a wrong file stops the start with exit 2 and
// a line naming where.
TEST(ServeConfigFileTest, SettingsComeFromTheFileUnlessAFlagOrVariableSetsThem) {
  TempDir dir;
  const std::string file = (dir.path() / "mast.yaml").string();
  std::ofstream(file) << "port: 9123\nmax_upload_bytes: 12345\nbusy-poll-us: 0\n"
                         "log_level: WARNING\nhost: 127.0.0.2\n";
  CliRun r = RunCli("serve --config " + file + " --port 9000 --print-config",
                    "MAST_MAX_UPLOAD_BYTES=777");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  json::object shown = json::parse(r.out).as_object();
  EXPECT_EQ(shown.at("port").as_int64(), 9000) << "the flag wins";
  EXPECT_EQ(shown.at("max_upload_bytes").as_int64(), 777) << "the variable wins";
  EXPECT_EQ(shown.at("busy_poll_us").as_int64(), 0);
  EXPECT_EQ(shown.at("log_level").as_string(), "WARNING");
  EXPECT_EQ(shown.at("host").as_string(), "127.0.0.2");
  // The file named by MAST_CONFIG instead of the flag.
  CliRun by_env = RunCli("serve --print-config", "MAST_CONFIG=" + file);
  ASSERT_EQ(by_env.exit_code, 0) << by_env.out;
  EXPECT_EQ(json::parse(by_env.out).at("port").as_int64(), 9123);

  std::ofstream(file) << "port: 9123\nportt: 1\n";
  CliRun bad = RunCli("serve --config " + file);
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_NE(bad.out.find(file + ": line 2: unknown setting 'portt'"), std::string::npos) << bad.out;
  CliRun missing = RunCli("serve --config " + file + ".absent");
  EXPECT_EQ(missing.exit_code, 2) << missing.out;
}

// The CPUs a thread may run on, as the kernel lists them ("0-1", "1").
std::string AllowedCpus(const std::string& status_file) {
  std::ifstream status(status_file);
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Cpus_allowed_list:", 0) == 0) {
      return line.substr(line.find_last_of(" \t") + 1);
    }
  }
  return "";
}

// The CPU list of the thread of process `pid` named `name` ("" if none).
std::string AllowedCpusOf(pid_t pid, const std::string& name) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : fs::directory_iterator(tasks)) {
    std::string comm;
    std::getline(std::ifstream(task.path() / "comm"), comm);
    if (comm == name) return AllowedCpus((task.path() / "status").string());
  }
  return "";
}

TEST(ServeIoThreadsTest, OnePinnedIoThreadPerUsableCpuByDefault) {
  const std::vector<int> cpus = mast::UsableCpus();
  // Under a CPU quota smaller than the CPUs (a Kubernetes CPU limit): no
  // more threads than it allows, no busy polling by default, so no pinning.
  const std::optional<double> quota = mast::CgroupCpuQuota();
  const bool binds = quota && *quota < static_cast<double>(cpus.size());
  const size_t budget = binds ? static_cast<size_t>(std::max(1.0, std::ceil(*quota))) : cpus.size();
  const std::string all = AllowedCpus("/proc/self/status");
  const Env env{{"MODEL_PATH", FixtureDir("logreg20_manifest") + "/model.onnx"}};
  std::string error;
  auto server = ServerProcess::Start({"serve", "--port", "0"}, env, &error);
  ASSERT_NE(server, nullptr) << error;
  const json::object& listening = server->listening_line();
  EXPECT_EQ(listening.at("io_threads").as_int64(), static_cast<int64_t>(budget));
  EXPECT_EQ(listening.at("busy_poll_us").as_int64(), binds ? 0 : 100);
  EXPECT_EQ(listening.at("cpu_quota").is_null(), !quota.has_value());
  const bool expect_pinned = !binds && budget > 1;
  EXPECT_EQ(listening.at("io_threads_pinned").as_bool(), expect_pinned);
  // "listening" is logged just before the I/O threads start; an answer
  // means thread 0 (the main thread, which accepts) runs, and the others pin
  // themselves as they start.
  HttpClient client(server->port());
  EXPECT_EQ(client.Get("/health").status, 200);
  const std::string main_thread = "/proc/" + std::to_string(server->pid()) + "/status";
  if (expect_pinned) {
    const std::string want = std::to_string(cpus[1]);
    for (int i = 0; i < 200 && AllowedCpusOf(server->pid(), "mast-io-1") != want; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(AllowedCpusOf(server->pid(), "mast-io-1"), want);
    EXPECT_EQ(AllowedCpus(main_thread), std::to_string(cpus[0])) << "the main thread is I/O thread 0";
  }
  // Threads started before the I/O threads keep every CPU.
  EXPECT_EQ(AllowedCpusOf(server->pid(), "mast-log"), all);
  EXPECT_TRUE(ExitedCleanly(server->Stop()));

  // Off, or fewer I/O threads than CPUs: nothing pinned.
  for (const Env& e : {Env{{"MAST_PIN_IO_THREADS", "off"}}, Env{{"MAST_IO_THREADS", "1"}}}) {
    Env with = env;
    with.insert(with.end(), e.begin(), e.end());
    auto unpinned = ServerProcess::Start({"serve", "--port", "0"}, with, &error);
    ASSERT_NE(unpinned, nullptr) << error;
    EXPECT_FALSE(unpinned->listening_line().at("io_threads_pinned").as_bool());
    HttpClient unpinned_client(unpinned->port());
    EXPECT_EQ(unpinned_client.Get("/health").status, 200);  // thread 0 runs
    EXPECT_EQ(AllowedCpus("/proc/" + std::to_string(unpinned->pid()) + "/status"), all);
    EXPECT_TRUE(ExitedCleanly(unpinned->Stop()));
  }

  CliRun bad = RunCli("serve --pin-io-threads sometimes --print-config");
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_NE(bad.out.find("--pin-io-threads"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace mast_e2e
