// Helpers for tests that read the committed model fixtures
// (tests/fixtures/models/<name>/, made by tests/fixtures/make_fixtures.py).
#ifndef MAST_TESTS_UNIT_FIXTURE_UTIL_H_
#define MAST_TESTS_UNIT_FIXTURE_UTIL_H_

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace mast::testing {

// An empty directory for the running test: <tmp>/<prefix>_<pid>_<test name>.
inline std::filesystem::path FreshTestDir(const std::string& prefix) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      (prefix + "_" + std::to_string(::getpid()) + "_" +
       ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A new temporary directory, removed with the object.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/mast-test-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string FixtureDir(const std::string& name) {
  return std::string(MAST_SOURCE_DIR) + "/tests/fixtures/models/" + name;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// /proc/self/task/<tid> of this process's thread named `name` (as
// SetThreadName set it); empty if there is none.
inline std::filesystem::path ThreadTaskDir(const std::string& name) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::string comm;
    std::getline(std::ifstream(task.path() / "comm"), comm);
    if (comm == name) return task.path();
  }
  return {};
}

inline boost::json::object Expected(const std::string& name) {
  return boost::json::parse(ReadFile(FixtureDir(name) + "/expected.json")).as_object();
}

// The expected.json rows as an array of {feature: value} objects.
inline boost::json::array NamedRows(const boost::json::object& expected) {
  const auto& names = expected.at("feature_names").as_array();
  boost::json::array rows;
  for (const auto& input : expected.at("inputs").as_array()) {
    boost::json::object row;
    for (size_t i = 0; i < names.size(); ++i) {
      row[names[i].as_string()] = input.as_array()[i];
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

inline double Number(const boost::json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.as_double();
}

}  // namespace mast::testing

#endif  // MAST_TESTS_UNIT_FIXTURE_UTIL_H_
