#include "api/oip_plain_request.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include <boost/json.hpp>

namespace mast {
namespace {

namespace json = boost::json;

TEST(OipPlainRequestTest, ReadsTheCommonFormAsBoostJsonDoes) {
  const std::string text =
      "{\"id\": \"req-1\", \"inputs\": [{\"name\": \"input\", \"shape\": [2, 3],\n"
      "  \"datatype\": \"FP32\", \"data\": [1.19243, -0.0610377, 2.64538e-3, 7, -0, 1E5]}]}";
  PlainInferRequest in;
  ASSERT_TRUE(ReadPlainInferRequest(text, &in));
  EXPECT_TRUE(in.has_id);
  EXPECT_EQ(in.id, "req-1");
  EXPECT_EQ(in.name, "input");
  EXPECT_EQ(in.datatype, "FP32");
  EXPECT_EQ(in.shape, (std::vector<int64_t>{2, 3}));
  const json::value parsed = json::parse(text);
  const json::array& want = parsed.at("inputs").at(0).at("data").as_array();
  ASSERT_EQ(in.data.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(in.data[i].kind(), want[i].kind()) << i;
    if (want[i].is_double()) {
      const double a = in.data[i].get_double(), b = want[i].get_double();
      EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0) << i;
    } else {
      EXPECT_EQ(in.data[i], want[i]) << i;
    }
  }
}

TEST(OipPlainRequestTest, MembersInAnyOrderBooleansAndNoId) {
  PlainInferRequest in;
  in.has_id = true;  // left from an earlier request: reset by the read
  ASSERT_TRUE(ReadPlainInferRequest(
      R"( {"inputs":[{"data":[true,false],"datatype":"BOOL","shape":[1,2],"name":"x"}]} )", &in));
  EXPECT_FALSE(in.has_id);
  EXPECT_EQ(in.name, "x");
  EXPECT_EQ(in.shape, (std::vector<int64_t>{1, 2}));
  ASSERT_EQ(in.data.size(), 2u);
  EXPECT_EQ(in.data[0], json::value(true));
  EXPECT_EQ(in.data[1], json::value(false));
  // A second read starts afresh.
  ASSERT_TRUE(ReadPlainInferRequest(
      R"({"inputs":[{"name":"y","shape":[0,2],"datatype":"FP32","data":[]}]})", &in));
  EXPECT_EQ(in.name, "y");
  EXPECT_EQ(in.shape, (std::vector<int64_t>{0, 2}));
  EXPECT_TRUE(in.data.empty());
}

TEST(OipPlainRequestTest, LeavesEverythingElseToTheDocument) {
  const std::string input = R"({"name":"input","shape":[1,2],"datatype":"FP32","data":[1,2]})";
  for (const std::string& text : {
           std::string("{\"inputs\":[") + input + "],\"outputs\":[{\"name\":\"label\"}]}",
           std::string("{\"inputs\":[") + input + "],\"parameters\":{}}",
           std::string("{\"inputs\":[") + input + "," + input + "]}",
           std::string("{\"inputs\":[]}"),
           std::string("{\"inputs\":[],\"inputs\":[") + input + "]}",
           std::string("{\"id\":\"a\",\"id\":\"b\",\"inputs\":[") + input + "]}",
           std::string("{\"id\":7,\"inputs\":[") + input + "]}",
           std::string("{\"inputs\":[") + input + "]} x",
           std::string("[") + input + "]",
           std::string("{}"),
           std::string(R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[[1,2]]}]})"),
           std::string(R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"BYTES","data":["a","b"]}]})"),
           std::string(R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[1,null]}]})"),
           std::string(R"({"inputs":[{"name":"input","shape":[-1,2],"datatype":"FP32","data":[1,2]}]})"),
           std::string(R"({"inputs":[{"name":"input","shape":[1.0,2],"datatype":"FP32","data":[1,2]}]})"),
           std::string(R"({"inputs":[{"name":"inp\u0075t","shape":[1,2],"datatype":"FP32","data":[1,2]}]})"),
           std::string(R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32"}]})"),
           std::string(R"({"inputs":[{"name":"input","name":"input","shape":[1,2],"datatype":"FP32","data":[1,2]}]})"),
           std::string(R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[1,2],"parameters":{}}]})"),
           std::string(R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[1,1.2345678901234567]}]})"),
       }) {
    PlainInferRequest in;
    EXPECT_FALSE(ReadPlainInferRequest(text, &in)) << text;
  }
}

}  // namespace
}  // namespace mast
