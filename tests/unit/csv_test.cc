// CsvReader and AppendCsvField: RFC 4180 records in, minimal quoting out.
#include "cli/csv.h"

#include <gtest/gtest.h>

#include <sstream>

namespace mast {
namespace {

using Cells = std::vector<std::string>;

// Every record of `text`, or the first error's message as the only cell of
// a record with line -1.
std::vector<CsvRecord> ReadAll(const std::string& text) {
  std::istringstream in(text);
  CsvReader reader(&in);
  std::vector<CsvRecord> out;
  for (;;) {
    CsvRecord r;
    auto more = reader.Next(&r);
    if (!more.ok()) {
      out.push_back({{more.status().message()}, -1});
      return out;
    }
    if (!*more) return out;
    out.push_back(std::move(r));
  }
}

TEST(CsvTest, SplitsPlainRecordsAndKeepsEmptyCells) {
  auto r = ReadAll("a,b,c\n1,,3\n,x,\n");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].cells, (Cells{"a", "b", "c"}));
  EXPECT_EQ(r[1].cells, (Cells{"1", "", "3"}));
  EXPECT_EQ(r[2].cells, (Cells{"", "x", ""}));
  EXPECT_EQ(r[2].line, 3);
}

TEST(CsvTest, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  auto r = ReadAll("name,note\n\"Smith, J\",\"say \"\"hi\"\"\"\n\"two\nlines\",\"\"\nlast,x");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[1].cells, (Cells{"Smith, J", "say \"hi\""}));
  EXPECT_EQ(r[2].cells, (Cells{"two\nlines", ""}));
  EXPECT_EQ(r[2].line, 3);
  EXPECT_EQ(r[3].cells, (Cells{"last", "x"}));  // no final line break
  EXPECT_EQ(r[3].line, 5);                      // the record above took two lines
}

TEST(CsvTest, CrlfBomAndBlankLines) {
  auto r = ReadAll(
      "\xEF\xBB\xBF"
      "a,b\r\n\r\n1,2\r\n\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].cells, (Cells{"a", "b"}));
  EXPECT_EQ(r[1].cells, (Cells{"1", "2"}));
  EXPECT_EQ(r[1].line, 3);
}

TEST(CsvTest, SpacesAndQuotesInsideUnquotedFieldsAreKept) {
  auto r = ReadAll(" a , b\"c\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].cells, (Cells{" a ", " b\"c"}));
}

TEST(CsvTest, MalformedQuotingNamesTheLine) {
  auto open = ReadAll("a,b\n1,\"never closed\n2,3\n");
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[1].line, -1);
  EXPECT_EQ(open[1].cells[0], "line 2: a quoted field is never closed");

  auto trailing = ReadAll("a\n\"x\"y\n");
  ASSERT_EQ(trailing.size(), 2u);
  EXPECT_EQ(trailing[1].line, -1);
  EXPECT_EQ(trailing[1].cells[0], "line 2: unexpected text after a closing quote");
}

TEST(CsvTest, WriterQuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(CsvLine({"age", "plan=basic", "device#3", "-1.5e-07"}),
            "age,plan=basic,device#3,-1.5e-07");
  EXPECT_EQ(CsvLine({"a,b", "say \"hi\"", "two\nlines", " padded", ""}),
            "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" padded\",");
}

TEST(CsvTest, WrittenLinesReadBackUnchanged) {
  const Cells fields{"plain", "a,b", "q\"uote", "multi\nline", "", " x "};
  auto r = ReadAll(CsvLine(fields) + "\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].cells, fields);
}

}  // namespace
}  // namespace mast
