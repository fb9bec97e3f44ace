#include "api/tensor_json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <boost/json.hpp>

#include "common/json_writer.h"

namespace mast {
namespace {

namespace json = boost::json;

TEST(TensorJsonTest, TensorFromJsonFillsEveryDatatype) {
  auto f = TensorFromJson("x", DataType::kFp32, {2, 2}, json::parse("[[1, 2.5], [-3, 4]]"));
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(f->data<float>()[1], 2.5f);
  EXPECT_EQ(f->data<float>()[2], -3.0f);
  auto s = TensorFromJson("s", DataType::kBytes, {1, 2}, json::parse(R"(["a", ""])"));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->strings, (std::vector<std::string>{"a", ""}));
  auto b = TensorFromJson("b", DataType::kBool, {2}, json::parse("[true, false]"));
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->data<uint8_t>()[0], 1);
  auto empty = TensorFromJson("e", DataType::kFp32, {0, 20}, json::parse("[]"));
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  EXPECT_EQ(empty->size(), 0);
}

// A shape of 2^40 elements with no data must be refused before anything is
// allocated (the allocation alone would throw std::bad_alloc or exhaust
// memory).
TEST(TensorJsonTest, TensorFromJsonChecksTheCountBeforeAllocating) {
  auto huge = TensorFromJson("input", DataType::kFp32, {54975581388, 20}, json::parse("[]"));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(huge.status().message(),
            "input 'input': shape holds 1099511627760 elements but data has 0");
  // A product beyond int64 saturates instead of wrapping around to a small
  // (or matching) count.
  auto wrap = TensorFromJson("input", DataType::kFp32, {int64_t{1} << 32, int64_t{1} << 32, 1},
                             json::parse("[]"));
  ASSERT_FALSE(wrap.ok());
  EXPECT_NE(wrap.status().message().find("9223372036854775807 elements"), std::string::npos)
      << wrap.status().message();
  auto negative = TensorFromJson("input", DataType::kFp32, {-1, 2}, json::parse("[1, 2]"));
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.status().message().find("non-negative"), std::string::npos);
  auto few = TensorFromJson("input", DataType::kFp32, {1, 20}, json::parse("[1, 2]"));
  ASSERT_FALSE(few.ok());
  EXPECT_EQ(few.status().message(), "input 'input': shape holds 20 elements but data has 2");
}

TEST(TensorJsonTest, NumbersThatOverflowTheDatatypeAreRefused) {
  // Boost.JSON reads 1e400 as infinity.
  for (DataType type : {DataType::kFp32, DataType::kFp64}) {
    for (const char* data : {"[1e400]", "[-1e400]"}) {
      auto t = TensorFromJson("x", type, {1}, json::parse(data));
      ASSERT_FALSE(t.ok()) << data;
      EXPECT_NE(t.status().message().find("element 0 is not within the"), std::string::npos)
          << t.status().message();
      Tensor made = Tensor::Make("x", type, {1});
      EXPECT_FALSE(FillTensorFromJson(json::parse(data), &made).ok()) << data;
    }
  }
  EXPECT_TRUE(TensorFromJson("x", DataType::kFp64, {1}, json::parse("[1e300]")).ok());
  EXPECT_FALSE(TensorFromJson("x", DataType::kFp32, {1}, json::parse("[1e300]")).ok());
  EXPECT_FALSE(TensorFromJson("x", DataType::kInt64, {1}, json::parse("[1e19]")).ok());
  EXPECT_FALSE(TensorFromJson("x", DataType::kInt32, {1}, json::parse("[2147483648]")).ok());
}

TEST(TensorJsonTest, DataNotMatchingTheDatatypeNamesTheElement) {
  auto t = TensorFromJson("x", DataType::kBool, {1, 2}, json::parse("[true, 1]"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "input 'x': element 1 is not true or false (datatype BOOL)");
  auto s = TensorFromJson("s", DataType::kBytes, {1}, json::parse("[5]"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("not a string"), std::string::npos);
  std::string deep = "1";
  for (int i = 0; i < 40; ++i) deep = "[" + deep + "]";
  json::parse_options options;
  options.max_depth = 64;
  auto nested = TensorFromJson("x", DataType::kFp32, {1}, json::parse(deep, {}, options));
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("nested too deeply"), std::string::npos);
}

// The answers are written as text directly; that text must be exactly what
// serialising the JSON arrays gives.
TEST(TensorJsonTest, AppendedTextEqualsTheSerialisedArrays) {
  std::vector<Tensor> tensors;
  auto add = [&](DataType type, std::vector<int64_t> shape, const char* data) {
    auto t = TensorFromJson("t", type, std::move(shape), json::parse(data));
    ASSERT_TRUE(t.ok()) << t.status().message();
    tensors.push_back(std::move(t).value());
  };
  add(DataType::kFp32, {3}, "[0.1, -2.5, 1e-07]");
  add(DataType::kFp32, {2, 2}, "[[0.973271, 0.026729], [3, 4]]");
  add(DataType::kFp64, {1, 3}, "[[0.1, 1e300, -0]]");
  add(DataType::kInt64, {4}, "[0, -1, 9007199254740993, 42]");
  add(DataType::kInt32, {2, 1}, "[[7], [-8]]");
  add(DataType::kBool, {2}, "[true, false]");
  add(DataType::kBytes, {2}, R"(["plain", "quote \" tab \t \u00e9"])");
  add(DataType::kFp32, {0, 2}, "[]");
  add(DataType::kFp32, {}, "5.5");
  for (const Tensor& t : tensors) {
    std::string rows, flat;
    AppendRowsJson(t, &rows);
    AppendFlatJson(t, &flat);
    EXPECT_EQ(rows, ToJson(RowsToJson(t)));
    EXPECT_EQ(flat, ToJson(FlatToJson(t)));
  }
  std::string text;
  AppendRowsJson(tensors[1], &text);
  EXPECT_EQ(text, "[[0.973271,0.026729],[3.0,4.0]]");
}

}  // namespace
}  // namespace mast
