#include "common/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>

#include <boost/json.hpp>

namespace mast {
namespace {

namespace json = boost::json;

TEST(JsonWriterTest, NumbersReadTheWayPeopleWriteThem) {
  EXPECT_EQ(ToJson(json::value(0.973271)), "0.973271");
  EXPECT_EQ(ToJson(json::value(3.0)), "3.0");
  EXPECT_EQ(ToJson(json::value(-2.5)), "-2.5");
  EXPECT_EQ(ToJson(json::value(1e-7)), "1e-07");
  EXPECT_EQ(ToJson(json::value(int64_t{-42})), "-42");
  EXPECT_EQ(ToJson(json::value(uint64_t{18446744073709551615u})), "18446744073709551615");
  EXPECT_EQ(ToJson(json::value(std::nan(""))), "null");
}

TEST(JsonWriterTest, OutputParsesBackToTheSameValue) {
  json::value v = json::parse(
      R"({"a":[1,2.5,-0.001,1e300,true,false,null],"b":{"s":"q\"\\\n\t\u0001é"},"c":[]})");
  EXPECT_EQ(json::parse(ToJson(v)), v);
}

TEST(JsonWriterTest, ControlCharactersAreEscaped) {
  EXPECT_EQ(ToJson(json::value("a\x01" "b")), "\"a\\u0001b\"");
}

// Strings are scanned 16 bytes at a time: every character that needs an
// escape must be found wherever it falls, and the rest copied as they are.
TEST(JsonWriterTest, EscapesAtEveryPositionOfLongStrings) {
  const std::string special[] = {"\"", "\\", "\n", "\t", std::string(1, '\0'), "\x1f", "\x7f",
                                 "\xc3\xa9", "/"};
  for (size_t length : {0, 1, 15, 16, 17, 31, 32, 33, 47, 100}) {
    for (size_t at = 0; at <= length; ++at) {
      for (const std::string& c : special) {
        std::string s(length, 'x');
        s.insert(at, c);
        std::string out = "prefix";
        AppendJsonString(s, &out);
        EXPECT_EQ(out, "prefix" + json::serialize(json::string(s))) << length << " " << at;
        EXPECT_EQ(json::parse(out.substr(6)).as_string(), s);
      }
    }
  }
}

}  // namespace
}  // namespace mast
