// Helpers for tests that read the committed model fixtures
// (tests/fixtures/models/<name>/, made by tests/fixtures/make_fixtures.py).
#ifndef MAST_TESTS_UNIT_FIXTURE_UTIL_H_
#define MAST_TESTS_UNIT_FIXTURE_UTIL_H_

#include <fstream>
#include <sstream>
#include <string>

#include <boost/json.hpp>

namespace mast::testing {

inline std::string FixtureDir(const std::string& name) {
  return std::string(MAST_SOURCE_DIR) + "/tests/fixtures/models/" + name;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
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
