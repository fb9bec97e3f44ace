#include "common/json_reader.h"

#include <gtest/gtest.h>

#include <string>

namespace mast {
namespace {

// DescribeJsonError of a text ParseJson rejects.
std::string Describe(const std::string& text) {
  boost::system::error_code ec;
  ParseJson(text, ec);
  EXPECT_TRUE(ec) << "ParseJson accepted: " << text;
  return DescribeJsonError(text, ec);
}

TEST(JsonReaderTest, ParsesADocument) {
  boost::system::error_code ec;
  const boost::json::value v = ParseJson(R"({"a": [1, 2.5, "x"]})", ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(v.at("a").at(2).as_string(), "x");
}

TEST(JsonReaderTest, SyntaxErrorNamesLineAndColumn) {
  EXPECT_EQ(Describe("{\n  \"a\": 1,\n  \"b\": x\n}"), "syntax error at line 3, column 8");
  EXPECT_EQ(Describe("{'age': 30}"), "syntax error at line 1, column 2");
  EXPECT_EQ(Describe("[1, 2,]"), "syntax error at line 1, column 7");
  EXPECT_EQ(Describe(R"({"ratio": NaN})"), "syntax error at line 1, column 11");
}

TEST(JsonReaderTest, ColumnsCountBytes) {
  // "é" is two bytes: the 'u}' fault is at byte 10, column 11.
  EXPECT_EQ(Describe("{\"\xC3\xA9\": tru}"), "syntax error at line 1, column 11");
}

TEST(JsonReaderTest, FindsTheFaultAcrossThePiecesItReadsIn) {
  // The fault at every offset around the 64-byte pieces and far beyond.
  for (size_t at : {1, 62, 63, 64, 65, 127, 128, 129, 1000, 70000}) {
    const std::string text = "[" + std::string(at - 1, ' ') + "x]";
    EXPECT_EQ(Describe(text), "syntax error at line 1, column " + std::to_string(at + 1)) << at;
  }
  std::string numbers = "[";
  for (int i = 0; i < 500; ++i) numbers += "1,";
  EXPECT_EQ(Describe(numbers + "x]"), "syntax error at line 1, column 1002");
}

TEST(JsonReaderTest, InvalidUtf8IsNamedWhereItStarts) {
  EXPECT_EQ(Describe("{\"color\": \"bl\xFF\"}"), "invalid UTF-8 at line 1, column 14");
  EXPECT_EQ(Describe("{\"ag\xC3\x28\": 1}"), "invalid UTF-8 at line 1, column 5");
  EXPECT_EQ(Describe("{\"c\": \"\xC0\xAF\"}"), "invalid UTF-8 at line 1, column 8");      // overlong
  EXPECT_EQ(Describe("{\"c\": \"\xED\xA0\x80\"}"), "invalid UTF-8 at line 1, column 8");  // surrogate
  EXPECT_EQ(Describe("{\"c\": \"os\xE2\x82\"}"), "invalid UTF-8 at line 1, column 10");   // cut short
  EXPECT_EQ(Describe("\xEF\xBB\xBF{}"), "syntax error at line 1, column 1");  // a BOM is UTF-8
}

TEST(JsonReaderTest, BadUtf8AfterTheFaultIsNotBlamed) {
  EXPECT_EQ(Describe("{x \"\xFF\"}"), "syntax error at line 1, column 2");
}

TEST(JsonReaderTest, EndsTooSoonExtraDataAndEmpty) {
  EXPECT_EQ(Describe(R"({"a": [1, 2)"), "the document ends too soon, at line 1, column 12");
  EXPECT_EQ(Describe("{} x"), "extra data at line 1, column 4");
  EXPECT_EQ(Describe("{}{}"), "extra data at line 1, column 3");
  EXPECT_EQ(Describe(""), "the body is empty");
  EXPECT_EQ(Describe(" \r\n\t"), "the body is empty");
}

TEST(JsonReaderTest, TooDeepIsNamedWithItsPlace) {
  EXPECT_EQ(Describe(std::string(100, '[')), "nested more than 32 levels deep at line 1, column 33");
}

}  // namespace
}  // namespace mast
