// ApplyConfigFile on a real CLI::App: values, precedence (command line, then
// environment, then file, then default), the option's own checks, and the
// errors a wrong file gets.
#include "cli/config_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "fixture_util.h"

namespace mast {
namespace {

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("mast_config");
    app_.add_option("--port", port_)->envname("MAST_TEST_CONFIG_PORT")->check(CLI::Range(0, 65535));
    app_.add_option("--host", host_);
    app_.add_option("--max-upload-bytes", max_upload_);
    app_.add_option("--idle-timeout", idle_)->check(CLI::PositiveNumber);
    app_.add_flag("--print-config", print_);
  }
  void TearDown() override {
    ::unsetenv("MAST_TEST_CONFIG_PORT");
    std::filesystem::remove_all(dir_);
  }
  // Parses `args` (after the program name), then applies `yaml`.
  Status Run(std::vector<std::string> args, const std::string& yaml) {
    const std::string path = (dir_ / "mast.yaml").string();
    std::ofstream(path) << yaml;
    args.insert(args.begin(), "mast");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    app_.parse(static_cast<int>(argv.size()), argv.data());
    return ApplyConfigFile(&app_, path);
  }
  std::string Path() const { return (dir_ / "mast.yaml").string(); }

  std::filesystem::path dir_;
  CLI::App app_{"test"};
  int port_ = 8000;
  std::string host_ = "127.0.0.1";
  size_t max_upload_ = 1;
  double idle_ = 30;
  bool print_ = false;
};

TEST_F(ConfigFileTest, SetsWhatTheCommandLineAndEnvironmentDoNot) {
  Status s = Run({"--host", "10.0.0.1"},
                 "port: 9100\nhost: 0.0.0.0\nmax_upload_bytes: 4294967296\nidle-timeout: 2.5\n");
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(port_, 9100);
  EXPECT_EQ(host_, "10.0.0.1") << "the command line wins";
  EXPECT_EQ(max_upload_, size_t{4294967296});
  EXPECT_EQ(idle_, 2.5);
}

TEST_F(ConfigFileTest, TheEnvironmentWinsOverTheFile) {
  ::setenv("MAST_TEST_CONFIG_PORT", "7000", 1);
  ASSERT_TRUE(Run({}, "port: 9100\n").ok());
  EXPECT_EQ(port_, 7000);
}

TEST_F(ConfigFileTest, AnEmptyFileSetsNothing) {
  ASSERT_TRUE(Run({}, "").ok());
  EXPECT_EQ(port_, 8000);
  ASSERT_TRUE(Run({}, "# only a comment\n").ok());
}

TEST_F(ConfigFileTest, ErrorsNameTheFileTheLineAndTheSetting) {
  struct Case {
    std::string yaml;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {"port: 9100\nmax-uplaod-bytes: 5\n",
       {"line 2", "unknown setting 'max-uplaod-bytes'", "without the leading '--'"}},
      {"admin_token: secret\n", {"line 1", "unknown setting 'admin_token'", "MAST_ADMIN_TOKEN"}},
      {"port: [1, 2]\n", {"line 1", "setting 'port' must be a single value"}},
      {"port: 70000\n", {"line 1", "setting 'port'", "70000"}},
      {"port: eighty\n", {"line 1", "setting 'port'"}},
      {"idle_timeout: -1\n", {"line 1", "setting 'idle_timeout'"}},
      {"- port\n", {"line 1", "must be a mapping of settings"}},
      {"port: 1\n  host: [\n", {"not valid YAML"}},
      {"print-config: true\n", {"unknown setting 'print-config'"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.yaml);
    CLI::App app{"test"};
    int port = 0;
    double idle = 1;
    std::string host;
    bool print = false;
    app.add_option("--port", port)->check(CLI::Range(0, 65535));
    app.add_option("--host", host);
    app.add_option("--idle-timeout", idle)->check(CLI::PositiveNumber);
    app.add_flag("--print-config", print);
    std::ofstream(Path()) << c.yaml;
    const char* argv[] = {"mast"};
    app.parse(1, argv);
    Status s = ApplyConfigFile(&app, Path());
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message().rfind(Path() + ": ", 0), 0u) << s.message();
    for (const auto& part : c.parts) {
      EXPECT_NE(s.message().find(part), std::string::npos) << "missing '" << part << "' in: "
                                                           << s.message();
    }
  }
}

TEST_F(ConfigFileTest, AMissingFileIsAnError) {
  const char* argv[] = {"mast"};
  app_.parse(1, argv);
  Status s = ApplyConfigFile(&app_, (dir_ / "absent.yaml").string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot read the configuration file"), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace mast
