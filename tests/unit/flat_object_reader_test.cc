#include "features/flat_object_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <string>

#include <boost/json.hpp>

namespace mast {
namespace {

namespace json = boost::json;

// What ReadFlatObject read: each member's value by key (false if it gave up).
bool Read(const std::string& text, std::map<std::string, json::value>* out) {
  return ReadFlatObject(text, [&](std::string_view key, bool*) { return &(*out)[std::string(key)]; });
}

// Same kind and, for doubles, the same bits (sign of zero included).
void ExpectIdentical(const json::value& got, const json::value& want, const std::string& text) {
  ASSERT_EQ(got.kind(), want.kind()) << text;
  if (want.is_double()) {
    const double a = got.get_double(), b = want.get_double();
    EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0) << text << ": " << a << " vs " << b;
  } else {
    EXPECT_EQ(got, want) << text;
  }
}

// Reads `text` and checks every member against boost::json::parse.
void ExpectReadAsBoostDoes(const std::string& text) {
  std::map<std::string, json::value> got;
  ASSERT_TRUE(Read(text, &got)) << "gave up on: " << text;
  const json::object want = json::parse(text).as_object();
  ASSERT_EQ(got.size(), want.size()) << text;
  for (const auto& kv : want) ExpectIdentical(got[std::string(kv.key())], kv.value(), text);
}

// A random JSON number the reader should take: at most 15 digits, an
// exponent of at most 3.
std::string RandomNumber(std::mt19937_64& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto digits = [&](int n, bool leading_nonzero) {
    std::string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>('0' + (i == 0 && leading_nonzero ? pick(1, 9) : pick(0, 9)));
    return s;
  };
  std::string s = pick(0, 1) ? "-" : "";
  const int int_digits = pick(0, 8) == 0 ? 1 : pick(1, 10);
  s += int_digits == 1 && pick(0, 2) == 0 ? "0" : digits(int_digits, true);
  const int frac_digits = pick(0, 3) == 0 ? 0 : pick(1, 15 - int_digits);
  if (frac_digits > 0) s += "." + digits(frac_digits, false);
  if (pick(0, 3) == 0) {
    s += pick(0, 1) ? "e" : "E";
    const int sign = pick(0, 2);
    s += sign == 0 ? "" : sign == 1 ? "+" : "-";
    s += digits(pick(1, 3), false);
  }
  return s;
}

std::string RandomSpace(std::mt19937_64& rng) {
  static const char* kSpaces[] = {"", "", " ", "\n  ", "\t", "\r\n", "  "};
  return kSpaces[std::uniform_int_distribution<int>(0, 6)(rng)];
}

TEST(FlatObjectReaderTest, ReadsRandomFlatObjectsExactlyAsBoostJson) {
  std::mt19937_64 rng(20261127);
  for (int doc = 0; doc < 3000; ++doc) {
    const int members = std::uniform_int_distribution<int>(0, 12)(rng);
    std::string text = RandomSpace(rng) + "{";
    for (int m = 0; m < members; ++m) {
      if (m > 0) text += ",";
      text += RandomSpace(rng) + "\"f" + std::to_string(m) + "_ab cd-e.f\"" + RandomSpace(rng) + ":" +
              RandomSpace(rng);
      switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
        case 0: text += "true"; break;
        case 1: text += "false"; break;
        case 2: text += "null"; break;
        case 3: text += "\"plain text, with: {brackets} [and] 'quotes' / 0123456789\""; break;
        default: text += RandomNumber(rng);
      }
      text += RandomSpace(rng);
    }
    text += "}" + RandomSpace(rng);
    ExpectReadAsBoostDoes(text);
  }
}

TEST(FlatObjectReaderTest, NumbersAtTheEdgesMatchBoostJson) {
  for (const char* number :
       {"0", "-0", "0.0", "-0.0", "1", "-1", "999999999999999", "-999999999999999",
        "0.1", "0.2", "0.3", "1.19243", "-0.0610377", "2.22507385850720e-308", "4.9e-324", "1e-307",
        "1e-308", "2.5e-320", "1.7976931348623e308", "1e308", "1e309", "1e999", "-1e999",
        "1e-999", "123456789012345e-20", "0.00000000000001", "9.99999999999999e22",
        "12345.678901234", "1E5", "1e+5", "1e-5", "5e0", "0e0", "-0e-0"}) {
    ExpectReadAsBoostDoes(std::string("{\"x\": ") + number + "}");
    ExpectReadAsBoostDoes(std::string("{\"x\":") + number + ",\"y\":1}");
  }
}

TEST(FlatObjectReaderTest, GivesUpOnWhatItDoesNotRead) {
  for (const char* text : {
           "", " ", "[]", "3", "\"x\"", "null", "{", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\" 1}",
           "{\"a\":1,}", "{,}", "{\"a\":1}x", "{\"a\":1}{}", "{a:1}", "{'a':1}",
           "{\"a\":[1]}", "{\"a\":{\"b\":1}}",                  // nesting
           "{\"a\\u0062\":1}", "{\"a\":\"x\\ny\"}",             // escapes
           "{\"caf\xC3\xA9\":1}", "{\"a\":\"\xC3\xA9\"}",        // non-ASCII
           "{\"a\":\"tab\there\"}",                              // a control character
           "{\"a\":1234567890123456}", "{\"a\":1.234567890123456}",  // 16 digits
           "{\"a\":1e1000}", "{\"a\":1e0001}",                  // a 4-digit exponent
           "{\"a\":01}", "{\"a\":-01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":-}",
           "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":tru}",
           "{\"a\":nul}", "{\"a\":falsey}", "{\"a\":1 2}", "{\"a\":\"open}",
           "{\"a\":1/*c*/}"}) {
    std::map<std::string, json::value> got;
    EXPECT_FALSE(Read(text, &got)) << text;
  }
}

TEST(FlatObjectReaderTest, ASlotCanStopOrDropAValue) {
  const std::string text = R"({"keep": 1.5, "drop": "x", "also": 2})";
  json::value kept;
  int calls = 0;
  EXPECT_TRUE(ReadFlatObject(text, [&](std::string_view key, bool*) -> json::value* {
    ++calls;
    return key == "keep" ? &kept : nullptr;
  }));
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(kept, json::value(1.5));
  calls = 0;
  EXPECT_FALSE(ReadFlatObject(text, [&](std::string_view key, bool* stop) -> json::value* {
    ++calls;
    *stop = key == "drop";
    return nullptr;
  }));
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace mast
