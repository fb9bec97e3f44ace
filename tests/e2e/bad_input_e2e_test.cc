// End-to-end table of bad inputs (issue 4): every row of the table is sent to
// one `mast` server, checked for its status (422, 400 or 413; 200 where the
// input is odd but allowed) and its error: the `loc`, `type` and message of
// every detail[] entry of a classic 422, the message of a 400/413, the
// {"error": ...} of the Open Inference Protocol. After every row GET /health
// must still answer 200, and at the end the server must exit cleanly on
// SIGTERM with no error logged.
//
// The repository served (one server for the whole table):
//   strict    logreg20's model (one FP32 [N,20] input) behind a manifest that
//             uses every constraint: float/int/bool/string features, min and
//             max, required and defaulted fields, declared categories, one-hot
//             and ordinal encodings with `unknown: error` and `other`, log1p,
//             impute + standardize, hashing, and `unknown_fields: forbid`.
//   shop      onehot_linear's model (inputs color BYTES, size INT64, weight
//             FP32, one per feature) with a plain manifest: strings reach a
//             string tensor, integers an INT64 one.
//   all_types the identity model with one input of each OIP datatype.
// The body limit is 1 MiB (--max-body-bytes) so that "huge" stays cheap.
//
// Each case is its own test, named after it:
//   mast_e2e_tests --gtest_filter='BadInput/*/OipWrongDatatype'
#include <ostream>  // before any Boost header (Boost 1.81 + GCC 12)

#include "e2e_util.h"

#include <gtest/gtest.h>

namespace mast_e2e {
namespace {

constexpr size_t kBodyLimit = 1 << 20;

const char* const kStrictManifest = R"(unknown_fields: forbid
features:
  - {name: age, type: float, min: 0, max: 120}
  - {name: tenure_months, type: int, min: 0, max: 600}
  - {name: is_member, type: bool}
  - name: plan
    type: string
    transforms: [{one_hot: {categories: [basic, pro, team], unknown: error}}]
  - name: city
    type: string
    transforms: [{ordinal: {categories: [oslo, rome], unknown: error}}]
  - name: region
    type: string
    categories: [north, south]
    transforms: [{ordinal: {categories: [north, south], unknown: other}}]
  - name: device
    type: string
    default: web
    transforms: [{one_hot: {categories: [android, ios, web], unknown: other}}]
  - {name: visits, type: float, transforms: [{log1p: {}}]}
  - name: income
    type: float
    transforms:
      - impute: {strategy: mean, value: 50000}
      - standardize: {mean: 50000, std: 0.01}
  - {name: discount, type: float, min: 0, max: 1, default: 0}
  - {name: num_logins, type: int, min: 0, default: 0}
  - {name: ratio, type: float}
  - name: referrer
    type: string
    default: none
    transforms: [{hash: {buckets: 3}}]
)";

const char* const kShopManifest = R"(features:
  - {name: color, type: string}
  - {name: size, type: int, min: 0}
  - {name: weight, type: float}
)";

// The required fields of `strict`, in manifest order.
const std::vector<std::string> kStrictRequired = {"age",  "tenure_months", "is_member", "plan",
                                                  "city", "region",        "visits",    "ratio"};

// A valid `strict` row: only the required fields.
json::object StrictRow() {
  return json::object{{"age", 30},      {"tenure_months", 12}, {"is_member", true}, {"plan", "pro"},
                      {"city", "oslo"}, {"region", "north"},   {"visits", 3},       {"ratio", 0.5}};
}

// StrictRow() with `changes` applied (a null json::value erases the field).
json::object StrictRowWith(const std::vector<std::pair<std::string, json::value>>& changes) {
  json::object row = StrictRow();
  for (const auto& [field, value] : changes) {
    if (value.is_null()) {
      row.erase(field);
    } else {
      row[field] = value;
    }
  }
  return row;
}

std::string StrictBody(const std::vector<std::pair<std::string, json::value>>& changes) {
  return json::serialize(StrictRowWith(changes));
}

// StrictRow() as JSON text with the value of `field` replaced by `raw`,
// inserted verbatim (it may be invalid JSON or invalid UTF-8).
std::string StrictRawField(const std::string& field, const std::string& raw) {
  std::string out = "{";
  for (const auto& kv : StrictRow()) {
    if (out.size() > 1) out += ",";
    out += json::serialize(json::string(kv.key())) + ":" +
           (kv.key() == field ? raw : json::serialize(kv.value()));
  }
  return out + "}";
}

// `n` copies of `row` as a JSON array.
std::string Repeat(const std::string& row, size_t n) {
  std::string out = "[";
  out.reserve(n * (row.size() + 1) + 2);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out += ",";
    out += row;
  }
  return out + "]";
}

// One row of the `strict` model's [N, 20] input tensor.
json::array StrictTensorRow() {
  json::array row;
  for (int i = 0; i < 20; ++i) row.push_back(0.5);
  return row;
}

std::string StrictInfer(const std::string& name, const std::string& datatype, json::array shape,
                        json::value data) {
  return InferBody(json::array{Tensor(name, datatype, std::move(shape), std::move(data))});
}

// A valid all_types request with input `name` replaced by `replacement`
// (JSON text of the whole tensor object, verbatim), or left out if empty.
std::string AllTypesInfer(const std::string& name, const std::string& replacement) {
  const json::object example = Expected("all_types").at("example_inputs").as_object();
  std::string out = R"({"inputs":[)";
  bool first = true;
  for (const char* type : {"fp32", "fp64", "int32", "int64", "bool", "bytes"}) {
    const std::string input = std::string("x_") + type;
    std::string tensor;
    if (input == name) {
      if (replacement.empty()) continue;
      tensor = replacement;
    } else {
      std::string datatype = type;
      for (auto& c : datatype) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      tensor = json::serialize(Tensor(input, datatype, {1, 2}, example.at(input)));
    }
    out += (first ? "" : ",") + tensor;
    first = false;
  }
  return out + "]}";
}

// ---------------------------------------------------------------------------
// The table

// One entry expected in a classic 422's detail[]: loc exactly, type exactly,
// msg containing `msg`.
struct FieldIssue {
  json::array loc;
  std::string type;
  std::string msg;
};

enum class Transport {
  kClient,   // HttpClient with Content-Length
  kRaw,      // the whole request written at once on a plain socket, then read
  kChunked,  // raw, with Transfer-Encoding: chunked (64 KiB chunks)
};

struct BadInputCase {
  std::string name;    // test name suffix
  std::string target;  // route
  std::string body;    // bytes sent
  int status = 0;      // expected HTTP status
  // 422: the detail[] entries (any order). Unless `detail_count` is set,
  // these are all of them.
  std::vector<FieldIssue> issues;
  std::optional<size_t> detail_count;
  // 400/413 (classic "detail" string) and every OIP error ("error"): a
  // fragment of the message.
  std::string message;
  // 200: the number of predictions expected (classic), or of outputs (OIP).
  size_t rows = 0;
  Transport transport = Transport::kClient;
};

void PrintTo(const BadInputCase& c, std::ostream* os) {
  *os << c.name << ": POST " << c.target << " (" << c.body.size()
      << " bytes: " << (c.body.size() > 80 ? c.body.substr(0, 80) + "..." : c.body) << ")";
}

const std::string kPredict = "/v1/models/strict/predict";
const std::string kDefaultPredict = "/predict";  // --default-model strict
const std::string kShopPredict = "/v1/models/shop/predict";
const std::string kInfer = "/v2/models/strict/infer";
const std::string kAllTypesInfer = "/v2/models/all_types/infer";
const std::string kNotJson = "request body is not valid JSON";

BadInputCase Case(std::string name, std::string target, std::string body, int status) {
  BadInputCase c;
  c.name = std::move(name);
  c.target = std::move(target);
  c.body = std::move(body);
  c.status = status;
  return c;
}

BadInputCase Unprocessable(std::string name, std::string target, std::string body,
                           std::vector<FieldIssue> issues) {
  BadInputCase c = Case(std::move(name), std::move(target), std::move(body), 422);
  c.issues = std::move(issues);
  return c;
}

BadInputCase Rejected(std::string name, std::string target, std::string body, int status,
                      std::string message, Transport transport = Transport::kClient) {
  BadInputCase c = Case(std::move(name), std::move(target), std::move(body), status);
  c.message = std::move(message);
  c.transport = transport;
  return c;
}

BadInputCase Accepted(std::string name, std::string target, std::string body, size_t rows) {
  BadInputCase c = Case(std::move(name), std::move(target), std::move(body), 200);
  c.rows = rows;
  return c;
}

json::array Loc(std::initializer_list<json::value> path) {
  json::array loc{"body"};
  for (const auto& p : path) loc.push_back(p);
  return loc;
}

std::vector<BadInputCase> Cases() {
  std::vector<BadInputCase> t;
  const json::value kErase = nullptr;

  // --- Wrong JSON type for each declared type.
  t.push_back(Unprocessable("StringForFloat", kPredict, StrictBody({{"age", "old"}}),
                            {{Loc({"age"}), "type_error.float", "not a valid float"}}));
  t.push_back(Unprocessable("BoolForFloat", kPredict, StrictBody({{"age", true}}),
                            {{Loc({"age"}), "type_error.float", "not a valid float"}}));
  t.push_back(Unprocessable("ArrayForFloat", kPredict, StrictBody({{"age", json::array{30}}}),
                            {{Loc({"age"}), "type_error.float", "not a valid float"}}));
  t.push_back(
      Unprocessable("FloatForInt", kPredict, StrictBody({{"tenure_months", 1.5}}),
                    {{Loc({"tenure_months"}), "type_error.integer", "not a valid integer"}}));
  t.push_back(Unprocessable("StringForInt", kShopPredict,
                            R"({"color": "blue", "size": "3", "weight": 1.5})",
                            {{Loc({"size"}), "type_error.integer", "not a valid integer"}}));
  t.push_back(Unprocessable("NumberForBool", kPredict, StrictBody({{"is_member", 1}}),
                            {{Loc({"is_member"}), "type_error.bool", "boolean"}}));
  t.push_back(Unprocessable("StringForBool", kPredict, StrictBody({{"is_member", "true"}}),
                            {{Loc({"is_member"}), "type_error.bool", "boolean"}}));
  t.push_back(Unprocessable("NumberForEncodedString", kPredict, StrictBody({{"plan", 3}}),
                            {{Loc({"plan"}), "type_error.str", "str type expected"}}));
  t.push_back(Unprocessable("ObjectForEncodedString", kPredict,
                            StrictBody({{"city", json::object{{"name", "oslo"}}}}),
                            {{Loc({"city"}), "type_error.str", "str type expected"}}));
  t.push_back(Unprocessable("NumberForPlainString", kShopPredict,
                            R"({"color": 7, "size": 3, "weight": 1.5})",
                            {{Loc({"color"}), "type_error.str", "str type expected"}}));
  t.push_back(Unprocessable("NullForRequired", kPredict, StrictRawField("age", "null"),
                            {{Loc({"age"}), "type_error.none.not_allowed", "none"}}));
  t.push_back(Accepted("NullForDefaultedTakesTheDefault", kPredict,
                       StrictRawField("ratio", "0.5,\"discount\":null"), 1));

  // --- NaN and infinities: not JSON, or overflowing literals.
  t.push_back(Rejected("NaNLiteral", kPredict, StrictRawField("age", "NaN"), 400, kNotJson));
  t.push_back(
      Rejected("InfinityLiteral", kPredict, StrictRawField("ratio", "Infinity"), 400, kNotJson));
  t.push_back(Rejected("NegativeInfinityLiteral", kPredict, StrictRawField("ratio", "-Infinity"),
                       400, kNotJson));
  t.push_back(Unprocessable("NaNAsString", kPredict, StrictBody({{"ratio", "NaN"}}),
                            {{Loc({"ratio"}), "type_error.float", "not a valid float"}}));
  t.push_back(
      Unprocessable("LiteralOverflowingToInfinity", kPredict, StrictRawField("ratio", "1e400"),
                    {{Loc({"ratio"}), "value_error.number.not_finite", "not a finite number"}}));
  t.push_back(Unprocessable(
      "LiteralOverflowingToMinusInfinity", kDefaultPredict, StrictRawField("ratio", "-1e400"),
      {{Loc({"ratio"}), "value_error.number.not_finite", "not a finite number"}}));
  t.push_back(
      Unprocessable("InfinityIntoLog1p", kPredict, StrictRawField("visits", "1e400"),
                    {{Loc({"visits"}), "value_error.number.not_finite", "not a finite number"}}));
  t.push_back(
      Unprocessable("InfinityForInt", kPredict, StrictRawField("tenure_months", "1e400"),
                    {{Loc({"tenure_months"}), "type_error.integer", "not a valid integer"}}));
  t.push_back(Unprocessable("BeyondFloat32", kPredict, StrictBody({{"ratio", 1e39}}),
                            {{Loc({"ratio"}), "value_error.number.not_finite", "32-bit float"}}));
  t.push_back(Unprocessable("OverflowAfterTransforms", kPredict,
                            StrictBody({{"income", 1e37}}),  // / 0.01 = 1e39
                            {{Loc({"income"}), "value_error.number.not_finite", "transforms"}}));
  t.push_back(Unprocessable(
      "BeyondInt64", kShopPredict, R"({"color": "blue", "size": 1e19, "weight": 1.5})",
      {{Loc({"size"}), "value_error.number.out_of_range", "64-bit integer"}}));
  t.push_back(
      Unprocessable("Uint64BeyondInt64", kShopPredict,
                    R"({"color": "blue", "size": 18446744073709551615, "weight": 1})",
                    {{Loc({"size"}), "value_error.number.out_of_range", "64-bit integer"}}));

  // --- Missing, out of range, categories.
  t.push_back(Unprocessable("MissingRequired", kPredict, StrictBody({{"age", kErase}}),
                            {{Loc({"age"}), "value_error.missing", "field required"}}));
  t.push_back(Unprocessable("BelowMin", kPredict, StrictBody({{"age", -1}}),
                            {{Loc({"age"}), "value_error.number.not_ge",
                              "ensure this value is greater than or equal to 0"}}));
  t.push_back(Unprocessable("AboveMax", kDefaultPredict, StrictBody({{"age", 120.5}}),
                            {{Loc({"age"}), "value_error.number.not_le",
                              "ensure this value is less than or equal to 120"}}));
  t.push_back(Unprocessable("IntAboveMax", kPredict, StrictBody({{"tenure_months", 601}}),
                            {{Loc({"tenure_months"}), "value_error.number.not_le", "600"}}));
  t.push_back(Unprocessable("DefaultedFieldOutOfRange", kPredict, StrictBody({{"discount", 1.5}}),
                            {{Loc({"discount"}), "value_error.number.not_le", "1"}}));
  t.push_back(Unprocessable("NegativeBelowIntMin", kShopPredict,
                            R"({"color": "blue", "size": -1, "weight": 1.5})",
                            {{Loc({"size"}), "value_error.number.not_ge", "0"}}));
  t.push_back(Unprocessable("OutsideLog1pDomain", kPredict, StrictBody({{"visits", -1}}),
                            {{Loc({"visits"}), "value_error.number.not_gt", "greater than -1"}}));
  t.push_back(Accepted("BoundsAreInclusive", kPredict,
                       json::serialize(json::array{StrictRowWith({{"age", 0}, {"discount", 1}}),
                                                   StrictRowWith({{"age", 120}})}),
                       2));
  t.push_back(Unprocessable("UnseenCategoryOneHotError", kPredict, StrictBody({{"plan", "gold"}}),
                            {{Loc({"plan"}), "type_error.enum",
                              "unseen category 'gold'; permitted: 'basic', 'pro', 'team'"}}));
  t.push_back(Unprocessable("UnseenCategoryOrdinalError", kPredict, StrictBody({{"city", "paris"}}),
                            {{Loc({"city"}), "type_error.enum", "unseen category 'paris'"}}));
  t.push_back(Unprocessable("CategoriesAreCaseSensitive", kPredict, StrictBody({{"plan", "Pro"}}),
                            {{Loc({"plan"}), "type_error.enum", "unseen category 'Pro'"}}));
  t.push_back(Unprocessable("NotADeclaredCategory", kPredict, StrictBody({{"region", "east"}}),
                            {{Loc({"region"}), "type_error.enum",
                              "not a valid enumeration member; permitted: 'north', 'south'"}}));
  t.push_back(Accepted("UnseenCategoryWithOtherPolicy", kPredict,
                       StrictBody({{"device", "blackberry"}}), 1));

  // --- Unknown fields.
  t.push_back(Unprocessable("ExtraFieldUnderForbid", kPredict, StrictBody({{"agee", 31}}),
                            {{Loc({"agee"}), "value_error.extra", "extra fields not permitted"}}));
  t.push_back(Unprocessable("EveryExtraFieldListed", kPredict,
                            StrictBody({{"x", 1}, {"y", json::object{}}}),
                            {{Loc({"x"}), "value_error.extra", "extra fields not permitted"},
                             {Loc({"y"}), "value_error.extra", "extra fields not permitted"}}));
  t.push_back(Accepted("ExtraFieldIgnoredWithoutForbid", kShopPredict,
                       R"({"color": "blue", "size": 3, "weight": 1.5, "extra": [1, 2]})", 1));

  // --- Bodies that are not rows.
  {
    std::vector<FieldIssue> missing;
    for (const auto& f : kStrictRequired) {
      missing.push_back({Loc({json::string(f)}), "value_error.missing", "field required"});
    }
    t.push_back(Unprocessable("EmptyObject", kPredict, "{}", missing));
  }
  const FieldIssue not_rows{Loc({}), "type_error.dict",
                            "expected a JSON object of named features or a non-empty array"};
  t.push_back(Unprocessable("EmptyArray", kPredict, "[]", {not_rows}));
  t.push_back(Unprocessable("ScalarNumber", kPredict, "42", {not_rows}));
  t.push_back(Unprocessable("ScalarString", kDefaultPredict, R"("age=30")", {not_rows}));
  t.push_back(Unprocessable("NullBody", kPredict, "null", {not_rows}));
  t.push_back(Unprocessable("ArrayOfNonObjects", kPredict, R"([1, "x", null, [], true])",
                            {{Loc({0}), "type_error.dict", "not a valid dict"},
                             {Loc({1}), "type_error.dict", "not a valid dict"},
                             {Loc({2}), "type_error.dict", "not a valid dict"},
                             {Loc({3}), "type_error.dict", "not a valid dict"},
                             {Loc({4}), "type_error.dict", "not a valid dict"}}));
  t.push_back(Unprocessable("ArrayWithOneNonObject", kPredict,
                            "[" + json::serialize(StrictRow()) + ", 5]",
                            {{Loc({1}), "type_error.dict", "not a valid dict"}}));
  t.push_back(Rejected("EmptyBody", kPredict, "", 400, kNotJson + ": the body is empty"));
  t.push_back(Rejected("TruncatedJson", kPredict, R"({"age": 30, )", 400,
                       kNotJson + ": the document ends too soon, at line 1, column 13"));
  t.push_back(
      Rejected("TrailingGarbage", kPredict, json::serialize(StrictRow()) + " x", 400, kNotJson));
  t.push_back(Rejected("TwoDocuments", kPredict, "{}{}", 400,
                       kNotJson + ": extra data at line 1, column 3"));
  t.push_back(Rejected("ByteOrderMark", kPredict, "\xEF\xBB\xBF" + json::serialize(StrictRow()),
                       400, kNotJson));
  t.push_back(Rejected("SingleQuotes", kPredict, "{'age': 30}", 400,
                       kNotJson + ": syntax error at line 1, column 2"));

  // --- Row index in loc; several errors in one request.
  t.push_back(Unprocessable(
      "RowIndexInLoc", kPredict,
      json::serialize(json::array{StrictRow(), StrictRow(), StrictRowWith({{"age", -5}})}),
      {{Loc({2, "age"}), "value_error.number.not_ge", "greater than or equal to 0"}}));
  t.push_back(Unprocessable(
      "EveryErrorOfOneRowListed", kPredict,
      StrictBody(
          {{"age", "x"}, {"tenure_months", 1.5}, {"plan", "gold"}, {"ratio", kErase}, {"zzz", 1}}),
      {{Loc({"zzz"}), "value_error.extra", "extra fields not permitted"},
       {Loc({"age"}), "type_error.float", "not a valid float"},
       {Loc({"tenure_months"}), "type_error.integer", "not a valid integer"},
       {Loc({"plan"}), "type_error.enum", "unseen category 'gold'"},
       {Loc({"ratio"}), "value_error.missing", "field required"}}));
  t.push_back(Unprocessable(
      "ErrorsOfSeveralRowsListed", kDefaultPredict,
      json::serialize(json::array{StrictRowWith({{"is_member", 0}}), StrictRow(),
                                  StrictRowWith({{"region", "west"}, {"visits", kErase}}),
                                  json::array{}}),
      {{Loc({0, "is_member"}), "type_error.bool", "boolean"},
       {Loc({2, "region"}), "type_error.enum", "enumeration member"},
       {Loc({2, "visits"}), "value_error.missing", "field required"},
       {Loc({3}), "type_error.dict", "not a valid dict"}}));

  // --- Duplicate keys: the last one wins, as with Python's json module.
  t.push_back(Unprocessable("DuplicateKeyLastInvalid", kPredict,
                            StrictRawField("age", R"(30, "age": "old")"),
                            {{Loc({"age"}), "type_error.float", "not a valid float"}}));
  t.push_back(
      Accepted("DuplicateKeyLastValid", kPredict, StrictRawField("age", R"("old", "age": 30)"), 1));

  // --- Size: the body limit, big bodies within it, error amplification.
  {
    const std::string row = json::serialize(StrictRow());
    const size_t fit = (kBodyLimit - 2) / (row.size() + 1);  // rows within the limit
    t.push_back(Accepted("BigArrayWithinLimit", kPredict, Repeat(row, fit), fit));
    t.push_back(Rejected("ArrayOverLimit", kPredict, Repeat(row, fit + 200), 413,
                         std::to_string(kBodyLimit), Transport::kRaw));
    t.push_back(Rejected("ChunkedArrayOverLimit", kPredict, Repeat(row, fit + 200), 413,
                         std::to_string(kBodyLimit), Transport::kChunked));
    t.push_back(Rejected("OneByteOverLimit", kPredict,
                         "{\"pad\": \"" + std::string(kBodyLimit + 1 - 11, 'x') + "\"}", 413,
                         std::to_string(kBodyLimit), Transport::kRaw));
  }
  {
    // 1 MiB of `{}`: 340000 rows times 8 missing fields. Only the first
    // 1000 errors are listed, then one entry saying the rest was left out.
    BadInputCase many =
        Unprocessable("ManyInvalidRowsAreCapped", kPredict, Repeat("{}", 340000),
                      {{Loc({0, "age"}), "value_error.missing", "field required"},
                       {Loc({124, "visits"}), "value_error.missing", "field required"},
                       {Loc({}), "value_error.too_many_errors", "only the first 1000 are listed"}});
    many.detail_count = 1001;
    t.push_back(std::move(many));
    std::string extra = json::serialize(StrictRow());
    extra.pop_back();
    for (int i = 0; i < 30000; ++i) extra += ",\"f" + std::to_string(i) + "\":0";
    BadInputCase fields =
        Unprocessable("ManyExtraFieldsAreCapped", kPredict, extra + "}",
                      {{Loc({"f0"}), "value_error.extra", "extra fields not permitted"},
                       {Loc({"f999"}), "value_error.extra", "extra fields not permitted"},
                       {Loc({}), "value_error.too_many_errors", "more than 1000 errors"}});
    fields.detail_count = 1001;
    t.push_back(std::move(fields));
  }

  // --- Nesting: the parser's depth limit answers 400, not a stack overflow.
  t.push_back(Rejected("DeeplyNestedArrays", kPredict, std::string(100000, '['), 400, kNotJson));
  t.push_back(Rejected("DeeplyNestedClosedArrays", kPredict,
                       std::string(100000, '[') + std::string(100000, ']'), 400, kNotJson));
  {
    std::string objects;
    for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
    t.push_back(Rejected("DeeplyNestedObjects", kPredict, objects + "1" + std::string(100000, '}'),
                         400, kNotJson));
  }
  t.push_back(Unprocessable("NestedValueWithinParserLimit", kPredict,
                            StrictRawField("age", "[[[[[[[[[[30]]]]]]]]]]"),
                            {{Loc({"age"}), "type_error.float", "not a valid float"}}));

  // --- Bytes that are not UTF-8; Unicode that is.
  t.push_back(Rejected("InvalidUtf8InValue", kPredict, StrictRawField("plan", "\"\xFF\xFE\""), 400,
                       kNotJson + ": invalid UTF-8 at line 1, column "));
  t.push_back(Rejected("InvalidUtf8InPlainString", kShopPredict,
                       "{\"color\": \"bl\xFF\", \"size\": 3, \"weight\": 1.5}", 400,
                       kNotJson + ": invalid UTF-8 at line 1, column 14"));
  t.push_back(Rejected("InvalidUtf8InFieldName", kPredict,
                       StrictRawField("ratio", "0.5, \"ag\xC3\x28\": 1"), 400, kNotJson + ": invalid UTF-8 at line 1, column "));
  t.push_back(Rejected("TruncatedUtf8Sequence", kPredict, StrictRawField("city", "\"os\xE2\x82\""),
                       400, kNotJson + ": invalid UTF-8 at line 1, column "));
  t.push_back(Rejected("OverlongUtf8Encoding", kPredict, StrictRawField("city", "\"\xC0\xAF\""),
                       400, kNotJson + ": invalid UTF-8 at line 1, column "));
  t.push_back(Rejected("Utf8EncodedSurrogate", kPredict, StrictRawField("city", "\"\xED\xA0\x80\""),
                       400, kNotJson + ": invalid UTF-8 at line 1, column "));
  t.push_back(Rejected("LoneSurrogateEscape", kShopPredict,
                       R"({"color": "\ud800", "size": 3, "weight": 1.5})", 400, kNotJson));
  t.push_back(Rejected("LoneLowSurrogateEscape", kShopPredict,
                       R"({"color": "\udc00x", "size": 3, "weight": 1.5})", 400, kNotJson));
  t.push_back(Unprocessable(
      "UnicodeCategoryEchoedIntact", kPredict,
      StrictBody({{"city", "Z\xC3\xBCrich \xF0\x9F\x98\x80"}}),
      {{Loc({"city"}), "type_error.enum", "unseen category 'Z\xC3\xBCrich \xF0\x9F\x98\x80'"}}));
  t.push_back(Unprocessable(
      "ControlCharactersEchoedEscaped", kPredict, StrictRawField("plan", R"("\u0000\n\"")"),
      {{Loc({"plan"}), "type_error.enum", std::string("unseen category '\0\n\"'", 21)}}));
  t.push_back(Accepted("SurrogatePairInPlainString", kShopPredict,
                       R"({"color": "\ud83d\ude00", "size": 3, "weight": 1.5})", 1));

  // --- Open Inference Protocol: {"error": "..."} with 400.
  const json::array row = StrictTensorRow();
  t.push_back(Rejected("OipWrongDatatype", kInfer, StrictInfer("input", "FP64", {1, 20}, row), 400,
                       "datatype FP64 does not match the model's FP32"));
  t.push_back(Rejected("OipUnknownDatatype", kInfer, StrictInfer("input", "FLOAT", {1, 20}, row),
                       400, "unsupported datatype 'FLOAT'"));
  t.push_back(Rejected("OipDatatypeNotAString", kInfer,
                       R"({"inputs": [{"name": "input", "datatype": 1, "shape": [1, 20],
                                      "data": []}]})",
                       400, "'datatype' must be a string"));
  {
    json::array short_row = row;
    short_row.pop_back();
    t.push_back(Rejected("OipTooFewElements", kInfer,
                         StrictInfer("input", "FP32", {1, 20}, short_row), 400,
                         "shape holds 20 elements but data has 19"));
    json::array two_rows = row;
    for (const auto& v : row) two_rows.push_back(v);
    t.push_back(Rejected("OipTooManyElements", kInfer,
                         StrictInfer("input", "FP32", {1, 20}, two_rows), 400,
                         "shape holds 20 elements but data has 40"));
  }
  t.push_back(Rejected("OipRankMismatch", kInfer, StrictInfer("input", "FP32", {20}, row), 400,
                       "shape has rank 1 but the model expects rank 2"));
  t.push_back(Rejected("OipFixedDimensionMismatch", kInfer,
                       StrictInfer("input", "FP32", {2, 10}, row), 400,
                       "dimension 1 is 10 but the model expects 20"));
  t.push_back(Rejected("OipNegativeDimension", kInfer, StrictInfer("input", "FP32", {-1, 20}, row),
                       400, "non-negative integers"));
  t.push_back(Rejected("OipFractionalDimension", kInfer,
                       R"({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1.5, 20],
                                      "data": []}]})",
                       400, "non-negative integers"));
  t.push_back(Rejected("OipShapeTooLarge", kInfer,
                       StrictInfer("input", "FP32", {int64_t{1} << 40, 20}, json::array{}), 400,
                       "shape is too large"));
  t.push_back(Rejected("OipUnknownInputName", kInfer, StrictInfer("bogus", "FP32", {1, 20}, row),
                       400, "model 'strict' has no input 'bogus'"));
  t.push_back(Rejected("OipInputGivenTwice", kInfer,
                       InferBody(json::array{Tensor("input", "FP32", {1, 20}, row),
                                             Tensor("input", "FP32", {1, 20}, row)}),
                       400, "input 'input' is given twice"));
  t.push_back(Rejected("OipMissingInput", kAllTypesInfer, AllTypesInfer("x_bytes", ""), 400,
                       "missing input 'x_bytes'"));
  t.push_back(Rejected("OipInputWithoutName", kInfer, R"({"inputs": [{"datatype": "FP32"}]})", 400,
                       "every input needs a string 'name'"));
  t.push_back(Rejected("OipMissingData", kInfer,
                       R"({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 20]}]})",
                       400, "'data' is missing"));
  {
    json::array bad = row;
    bad[3] = "x";
    t.push_back(Rejected("OipStringInFp32Data", kInfer, StrictInfer("input", "FP32", {1, 20}, bad),
                         400, "element 3 is not a number (datatype FP32)"));
  }
  t.push_back(Rejected(
      "OipNumbersForBool", kAllTypesInfer,
      AllTypesInfer("x_bool", json::serialize(Tensor("x_bool", "BOOL", {1, 2}, json::array{1, 0}))),
      400, "input 'x_bool': element 0 is not true or false"));
  t.push_back(Rejected("OipNumbersForBytes", kAllTypesInfer,
                       AllTypesInfer("x_bytes", json::serialize(Tensor("x_bytes", "BYTES", {1, 2},
                                                                       json::array{1, 2}))),
                       400, "input 'x_bytes': element 0 is not a string"));
  t.push_back(Rejected("OipFractionForInt64", kAllTypesInfer,
                       AllTypesInfer("x_int64", json::serialize(Tensor("x_int64", "INT64", {1, 2},
                                                                       json::array{1.5, 2}))),
                       400, "element 0 is not an integer within the INT64 range"));
  t.push_back(
      Rejected("OipBeyondInt32", kAllTypesInfer,
               AllTypesInfer("x_int32", json::serialize(Tensor("x_int32", "INT32", {1, 2},
                                                               json::array{2147483648, 0}))),
               400, "element 0 is not an integer within the INT32 range"));
  t.push_back(Rejected("OipBeyondInt64", kAllTypesInfer,
                       AllTypesInfer("x_int64", R"({"name": "x_int64", "datatype": "INT64",
                                                    "shape": [1, 2],
                                                    "data": [1, 9223372036854775808]})"),
                       400, "element 1 is not an integer within the INT64 range"));
  {
    json::array big = row;
    big[5] = 1e39;
    t.push_back(Rejected("OipBeyondFp32", kInfer, StrictInfer("input", "FP32", {1, 20}, big), 400,
                         "element 5 is not within the FP32 range"));
    std::string fp32 = StrictInfer("input", "FP32", {1, 20}, row);
    const std::string first = json::serialize(row[0]);
    fp32.replace(fp32.find("[" + first), first.size() + 1, "[1e400");
    t.push_back(Rejected("OipFp32InfinityLiteral", kInfer, fp32, 400,
                         "element 0 is not within the FP32 range"));
  }
  t.push_back(Rejected("OipFp64InfinityLiteral", kAllTypesInfer,
                       AllTypesInfer("x_fp64", R"({"name": "x_fp64", "datatype": "FP64",
                                                   "shape": [1, 2], "data": [0.5, -1e400]})"),
                       400, "element 1 is not within the FP64 range"));
  t.push_back(Rejected("OipNaNLiteral", kAllTypesInfer,
                       AllTypesInfer("x_fp64", R"({"name": "x_fp64", "datatype": "FP64",
                                                   "shape": [1, 2], "data": [NaN, 1]})"),
                       400, kNotJson));
  t.push_back(Rejected("OipNonUtf8Bytes", kAllTypesInfer,
                       AllTypesInfer("x_bytes",
                                     "{\"name\": \"x_bytes\", \"datatype\": \"BYTES\", "
                                     "\"shape\": [1, 2], \"data\": [\"\xFF\", \"b\"]}"),
                       400, kNotJson));
  t.push_back(Rejected("OipNonUtf8InputName", kInfer,
                       "{\"inputs\": [{\"name\": \"inp\xC3\", \"datatype\": \"FP32\", "
                       "\"shape\": [1, 1], \"data\": [1]}]}",
                       400, kNotJson));
  {
    std::string deep = std::string(100000, '[') + "1" + std::string(100000, ']');
    t.push_back(Rejected("OipDeeplyNestedData", kInfer,
                         R"({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 20],
                                        "data": )" +
                             deep + "}]}",
                         400, kNotJson));
  }
  t.push_back(Rejected("OipBatchSizesDiffer", kAllTypesInfer,
                       AllTypesInfer("x_fp64", json::serialize(Tensor("x_fp64", "FP64", {2, 2},
                                                                      json::array{1, 2, 3, 4}))),
                       400, "different batch sizes"));
  t.push_back(
      Accepted("OipEmptyBatch", kInfer, StrictInfer("input", "FP32", {0, 20}, json::array{}), 2));
  t.push_back(Accepted("OipValidRequest", kInfer, StrictInfer("input", "FP32", {1, 20}, row), 2));
  t.push_back(Rejected("OipBodyNotAnObject", kInfer, "[1, 2, 3]", 400,
                       "request body must be a JSON object"));
  t.push_back(
      Rejected("OipEmptyObject", kInfer, "{}", 400, "'inputs' must be an array of tensors"));
  t.push_back(Rejected("OipInputsNotAnArray", kInfer, R"({"inputs": {"name": "input"}})", 400,
                       "'inputs' must be an array of tensors"));
  t.push_back(Rejected("OipIdNotAString", kInfer,
                       R"({"id": 7, "inputs": [{"name": "input", "datatype": "FP32",
                                                "shape": [1, 20], "data": []}]})",
                       400, "'id' must be a string"));
  t.push_back(Rejected("OipMalformedJson", kInfer, R"({"inputs": [)", 400,
                       kNotJson + ": the document ends too soon, at line 1, column 13"));
  t.push_back(Rejected(
      "OipOverLimit", kInfer,
      StrictInfer("input", "FP32", {1, 20}, json::array(kBodyLimit / 4, json::value(0.25))), 413,
      std::to_string(kBodyLimit), Transport::kRaw));
  return t;
}

// ---------------------------------------------------------------------------
// Sending

struct Reply {
  bool ok = false;
  std::string failure;  // when !ok
  int status = 0;
  std::string content_type;
  std::string request_id;
  std::string body;
};

// The value of header `name` (lower case) in a raw response head.
std::string RawHeader(const std::string& data, const std::string& name) {
  const size_t head_end = data.find("\r\n\r\n");
  std::string head = data.substr(0, head_end);
  std::string lower = head;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const size_t at = lower.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  size_t begin = at + 3 + name.size();
  while (begin < head.size() && head[begin] == ' ') ++begin;
  return head.substr(begin, head.find("\r\n", begin) - begin);
}

Reply Send(uint16_t port, const BadInputCase& c) {
  Reply reply;
  if (c.transport == Transport::kClient) {
    HttpClient client(port, 30s);
    HttpResult r = client.Post(c.target, c.body, {{"Content-Type", "application/json"}});
    reply.ok = r.ok();
    reply.failure = r.Describe();
    reply.status = r.status;
    reply.content_type = r.Header("Content-Type");
    reply.request_id = r.Header("X-Request-Id");
    reply.body = r.body;
    return reply;
  }
  std::string request =
      "POST " + c.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
  if (c.transport == Transport::kChunked) {
    request += "Transfer-Encoding: chunked\r\n\r\n";
    constexpr size_t kChunk = 64 * 1024;
    for (size_t at = 0; at < c.body.size(); at += kChunk) {
      const std::string piece = c.body.substr(at, kChunk);
      char size[32];
      std::snprintf(size, sizeof(size), "%zx\r\n", piece.size());
      request += size + piece + "\r\n";
    }
    request += "0\r\n\r\n";
  } else {
    request += "Content-Length: " + std::to_string(c.body.size()) + "\r\n\r\n" + c.body;
  }
  RawConnection conn;
  if (!conn.Connect(port)) {
    reply.failure = conn.error();
    return reply;
  }
  // The server may answer and close before it has read everything: a failed
  // write is expected then, the answer is what counts.
  conn.Send(request);
  RawRead r = conn.ReadResponse(30s);
  reply.status = RawStatus(r.data);
  reply.ok = reply.status != 0;
  reply.failure = "raw read: " + std::to_string(r.data.size()) + " bytes" +
                  (r.timed_out ? ", timed out" : "") + (r.reset ? ", reset" : "");
  reply.content_type = RawHeader(r.data, "content-type");
  reply.request_id = RawHeader(r.data, "x-request-id");
  reply.body = RawBody(r.data);
  return reply;
}

// ---------------------------------------------------------------------------
// The suite

class BadInputTableTest : public ::testing::TestWithParam<BadInputCase> {
 protected:
  static void SetUpTestSuite() {
    s_ = new SuiteServer();
    s_->repo = std::make_unique<TempDir>();
    const fs::path& repo = s_->repo->path();
    AddModel(repo, "strict", "logreg20");
    std::ofstream(repo / "strict" / "1" / "model.yaml") << kStrictManifest;
    AddModel(repo, "shop", "onehot_linear");
    std::ofstream(repo / "shop" / "1" / "model.yaml") << kShopManifest;
    AddModel(repo, "all_types", "all_types");
    s_->server = ServerProcess::Start(
        {"serve", "--model-repository", s_->repo->str(), "--port", "0", "--default-model", "strict",
         "--max-body-bytes", std::to_string(kBodyLimit)},
        {{"LOG_LEVEL", "INFO"}}, &s_->error);
  }

  static void TearDownTestSuite() {
    if (s_->server) {
      // Nothing the table sent may have been logged as an error (an
      // exception, an internal failure), and the server must stop cleanly.
      for (const auto& line : s_->server->LogLines()) {
        const std::string level = StringField(line, "level");
        EXPECT_TRUE(level != "error" && level != "critical") << json::serialize(line);
      }
      EXPECT_EQ(s_->server->Log().find("terminate called"), std::string::npos);
    }
    s_->Stop();
    delete s_;
    s_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(s_->server, nullptr) << s_->error;
    ASSERT_TRUE(s_->server->running()) << "the server died earlier:\n" << s_->server->Log();
  }

  static uint16_t port() { return s_->server->port(); }

  static std::string LogTail() {
    const std::string log = s_->server->Log();
    return log.substr(log.size() > 3000 ? log.size() - 3000 : 0);
  }

  // The server is up: still running, and GET /health answers 200 healthy.
  static void ExpectStillUp() {
    EXPECT_FALSE(s_->server->WaitExit(0ms).has_value())
        << "the server exited: " << StatusText(s_->server->WaitExit(0ms)) << "\nlog tail:\n"
        << LogTail();
    HttpClient client(port(), 10s);
    HttpResult health = client.Get("/health");
    ASSERT_TRUE(health.ok()) << "GET /health after the case: " << health.Describe();
    EXPECT_EQ(health.status, 200) << health.Describe();
    EXPECT_EQ(health.Json(), json::parse(R"({"status":"healthy","model_loaded":true})"))
        << health.body;
  }

  static SuiteServer* s_;
};
SuiteServer* BadInputTableTest::s_ = nullptr;

// Checks a classic 422 body against `c`.
void ExpectDetail(const BadInputCase& c, const json::value& body, const std::string& raw) {
  const json::object* o = body.if_object();
  ASSERT_TRUE(o && o->contains("detail") && o->at("detail").is_array()) << raw.substr(0, 600);
  const json::array& detail = o->at("detail").as_array();
  EXPECT_EQ(detail.size(), c.detail_count.value_or(c.issues.size())) << raw.substr(0, 2000);
  // Every entry has the FastAPI shape: loc starting with "body", msg, type.
  for (const auto& d : detail) {
    ASSERT_TRUE(d.is_object()) << json::serialize(d);
    const json::value* loc = d.as_object().if_contains("loc");
    ASSERT_TRUE(loc && loc->is_array() && !loc->as_array().empty() &&
                loc->as_array()[0] == json::value("body"))
        << json::serialize(d);
    EXPECT_FALSE(StringField(d, "msg").empty()) << json::serialize(d);
    EXPECT_FALSE(StringField(d, "type").empty()) << json::serialize(d);
  }
  for (const FieldIssue& want : c.issues) {
    const json::object* found = nullptr;
    for (const auto& d : detail) {
      if (d.as_object().at("loc") == want.loc) found = &d.as_object();
    }
    ASSERT_NE(found, nullptr) << "no detail entry with loc " << json::serialize(want.loc) << " in "
                              << raw.substr(0, 2000);
    EXPECT_EQ(StringField(*found, "type"), want.type) << json::serialize(*found);
    EXPECT_NE(StringField(*found, "msg").find(want.msg), std::string::npos)
        << "msg should contain '" << want.msg << "': " << json::serialize(*found);
  }
}

TEST_P(BadInputTableTest, AnswersWithItsErrorAndStaysUp) {
  const BadInputCase& c = GetParam();
  const Reply r = Send(port(), c);
  ASSERT_TRUE(r.ok) << r.failure << "\nlog tail:\n" << LogTail();
  EXPECT_EQ(r.status, c.status) << r.body.substr(0, 1000);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_FALSE(r.request_id.empty());
  boost::system::error_code ec;
  const json::value body = json::parse(r.body, ec);
  ASSERT_FALSE(ec) << "the answer is not JSON (" << ec.message() << "): " << r.body.substr(0, 600);

  const bool oip = c.target.rfind("/v2/", 0) == 0;
  if (c.status == 200) {
    const char* key = oip ? "outputs" : "prediction";
    ASSERT_TRUE(body.is_object() && body.as_object().contains(key)) << r.body.substr(0, 600);
    ASSERT_TRUE(body.at(key).is_array()) << r.body.substr(0, 600);
    EXPECT_EQ(body.at(key).as_array().size(), c.rows) << r.body.substr(0, 600);
  } else if (c.status == 422) {
    ExpectDetail(c, body, r.body);
  } else {
    const std::string message = StringField(body, oip ? "error" : "detail");
    EXPECT_FALSE(message.empty()) << "expected {\"" << (oip ? "error" : "detail")
                                  << "\": \"...\"}: " << r.body.substr(0, 600);
    EXPECT_NE(message.find(c.message), std::string::npos)
        << "the error should contain '" << c.message << "': " << r.body.substr(0, 600);
  }
  ExpectStillUp();
}

INSTANTIATE_TEST_SUITE_P(BadInput, BadInputTableTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<BadInputCase>& info) {
                           return info.param.name;
                         });

// A 100-byte request declaring [54975581388, 20] (just under the 2^40-element
// cap) once made ParseInput() allocate the shape before comparing it with the
// data: std::bad_alloc on an I/O thread terminated the server. The element
// count is now checked first.
TEST(BadInputOipTest, HugeShapeWithLittleDataIs400WithoutAllocating) {
  std::string error;
  auto server = ServerProcess::Start(
      {"serve", "--port", "0"}, {{"MODEL_PATH", FixtureDir("logreg20") + "/model.onnx"}}, &error);
  ASSERT_NE(server, nullptr) << error;
  HttpClient client(server->port());
  HttpResult r = client.Post("/v2/models/logreg20/infer",
                             StrictInfer("input", "FP32", {54975581388, 20}, json::array{}));
  ASSERT_TRUE(r.ok()) << r.Describe() << "\nlog:\n" << server->Log();
  EXPECT_EQ(r.status, 400) << r.Describe();
  EXPECT_NE(StringField(r.Json(), "error").find("data has 0"), std::string::npos) << r.body;
  HttpClient after(server->port());
  EXPECT_EQ(after.Get("/health").status, 200) << server->Log();
  auto status = server->Stop();
  EXPECT_TRUE(ExitedCleanly(status)) << StatusText(status);
}

}  // namespace
}  // namespace mast_e2e
