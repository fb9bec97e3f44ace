// Pieces of a JSON reader for the plain texts of hot request bodies
// (FeatureMapper's flat objects, OIP infer requests): whitespace, strings
// without escapes or non-ASCII bytes, and numbers read exactly as
// boost::json reads them (also used by the JSON writer to find the bytes a
// string must escape). The readers return nullptr where they do not take
// the text, and their caller then leaves the body to boost::json.
//
// Thread-safety: pure functions.
#ifndef MAST_COMMON_JSON_SCAN_H_
#define MAST_COMMON_JSON_SCAN_H_

#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value.hpp>

namespace mast {
namespace json_scan {

inline bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

inline const char* SkipSpace(const char* p, const char* end) {
  while (p < end && IsSpace(*p)) ++p;
  return p;
}

// Offset from `p` of the first byte of [p, end) that a JSON string cannot
// hold as it is: '"', '\\', a control character, and with `ascii_only` a byte
// from 0x80 up; end - p if there is none. Looks at 16 bytes at a time where
// the CPU has SSE2 (every x86-64 does).
inline size_t FindStringStop(const char* p, const char* end, bool ascii_only) {
  const char* const begin = p;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i control_max = _mm_set1_epi8(0x1f);
  for (; end - p >= 16; p += 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // As signed bytes, those below 0x20 and those from 0x80 up are both below
    // 0x20; unsigned c <= 0x1f exactly when min(c, 0x1f) == c.
    const __m128i low = ascii_only ? _mm_cmplt_epi8(chunk, space)
                                   : _mm_cmpeq_epi8(_mm_min_epu8(chunk, control_max), chunk);
    const __m128i stops = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)), low);
    const int mask = _mm_movemask_epi8(stops);
    if (mask != 0) {
      return static_cast<size_t>(p - begin) + __builtin_ctz(static_cast<unsigned>(mask));
    }
  }
#endif
  for (; p < end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\' || c < 0x20 || (ascii_only && c >= 0x80)) break;
  }
  return static_cast<size_t>(p - begin);
}

// The closing quote of a string whose text starts at `p`, if the text is
// plain (ASCII, no escape, no control character); else nullptr.
inline const char* PlainStringEnd(const char* p, const char* end) {
  p += FindStringStop(p, end, /*ascii_only=*/true);
  return p < end && *p == '"' ? p : nullptr;
}

// Reads the number at `p` into `out` (if not null) the way boost::json does:
// an integer as int64, anything with a fraction or an exponent as the double
// boost::json::detail::dec_to_float makes of the same digits. Returns the
// end of the number, or nullptr to give up. With at most 15 digits the
// mantissa stays below 2^53, where boost::json keeps every digit whichever
// of its code paths reads the number.
inline const char* ReadNumber(const char* p, const char* end, boost::json::value* out) {
  constexpr int kMaxDigits = 15;
  constexpr int kMaxExponentDigits = 3;
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  if (p >= end || !IsDigit(*p)) return nullptr;
  uint64_t mantissa = 0;
  int digits = 0;
  if (*p == '0') {
    ++p;
    digits = 1;
    if (p < end && IsDigit(*p)) return nullptr;  // a leading zero: not JSON
  } else {
    for (; p < end && IsDigit(*p); ++p) {
      if (++digits > kMaxDigits) return nullptr;
      mantissa = mantissa * 10 + static_cast<uint64_t>(*p - '0');
    }
  }
  bool real = false;
  int32_t exponent = 0;
  if (p < end && *p == '.') {
    real = true;
    const char* first = ++p;
    for (; p < end && IsDigit(*p); ++p) {
      if (++digits > kMaxDigits) return nullptr;
      mantissa = mantissa * 10 + static_cast<uint64_t>(*p - '0');
      --exponent;
    }
    if (p == first) return nullptr;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    real = true;
    ++p;
    const bool minus = p < end && *p == '-';
    if (p < end && (*p == '-' || *p == '+')) ++p;
    const char* first = p;
    int32_t value = 0;
    for (; p < end && IsDigit(*p); ++p) {
      if (p - first >= kMaxExponentDigits) return nullptr;
      value = value * 10 + (*p - '0');
    }
    if (p == first) return nullptr;
    exponent += minus ? -value : value;
  }
  if (out != nullptr) {
    if (real) {
      out->emplace_double() = boost::json::detail::dec_to_float(mantissa, exponent, negative);
    } else {
      const auto magnitude = static_cast<int64_t>(mantissa);
      out->emplace_int64() = negative ? -magnitude : magnitude;
    }
  }
  return p;
}

// Reads a plain string (PlainStringEnd) at `p` into `out`: a view of the
// text. Returns the end of the string or nullptr.
inline const char* ReadPlainString(const char* p, const char* end, std::string_view* out) {
  if (p >= end || *p != '"') return nullptr;
  const char* close = PlainStringEnd(p + 1, end);
  if (close == nullptr) return nullptr;
  *out = std::string_view(p + 1, static_cast<size_t>(close - p - 1));
  return close + 1;
}

// Reads the scalar at `p` into `out` (if not null): a plain string, a
// number (ReadNumber), true, false or null. Returns its end or nullptr.
inline const char* ReadScalar(const char* p, const char* end, boost::json::value* out) {
  if (p >= end) return nullptr;
  switch (*p) {
    case '"': {
      std::string_view text;
      p = ReadPlainString(p, end, &text);
      if (p != nullptr && out != nullptr) out->emplace_string().assign(text.data(), text.size());
      return p;
    }
    case 't':
      if (end - p < 4 || std::memcmp(p, "true", 4) != 0) return nullptr;
      if (out != nullptr) out->emplace_bool() = true;
      return p + 4;
    case 'f':
      if (end - p < 5 || std::memcmp(p, "false", 5) != 0) return nullptr;
      if (out != nullptr) out->emplace_bool() = false;
      return p + 5;
    case 'n':
      if (end - p < 4 || std::memcmp(p, "null", 4) != 0) return nullptr;
      if (out != nullptr) out->emplace_null();
      return p + 4;
    default:
      return ReadNumber(p, end, out);
  }
}

// Reads the items between `open` and `close` at `p`, separated by commas:
// `item(start)` reads one and returns its end, or nullptr to give up.
// Returns the end of the sequence or nullptr.
template <typename ItemFn>
const char* ReadSequence(const char* p, const char* end, char open, char close, ItemFn&& item) {
  if (p >= end || *p != open) return nullptr;
  p = SkipSpace(p + 1, end);
  if (p < end && *p == close) return p + 1;
  for (;;) {
    p = item(p);
    if (p == nullptr) return nullptr;
    p = SkipSpace(p, end);
    if (p >= end) return nullptr;
    if (*p == close) return p + 1;
    if (*p != ',') return nullptr;
    p = SkipSpace(p + 1, end);
  }
}

// Reads the object at `p`, calling `member(key, value_start)` for each
// member (a plain key): it returns the end of the value it read, or nullptr
// to give up. Returns the end of the object or nullptr.
template <typename MemberFn>
const char* ReadMembers(const char* p, const char* end, MemberFn&& member) {
  return ReadSequence(p, end, '{', '}', [&](const char* at) -> const char* {
    std::string_view key;
    at = ReadPlainString(at, end, &key);
    if (at == nullptr) return nullptr;
    at = SkipSpace(at, end);
    if (at >= end || *at != ':') return nullptr;
    return member(key, SkipSpace(at + 1, end));
  });
}

// Reads the array at `p`, calling `element(start)` for each element: it
// returns the end of the element it read, or nullptr to give up. Returns
// the end of the array or nullptr.
template <typename ElementFn>
const char* ReadElements(const char* p, const char* end, ElementFn&& element) {
  return ReadSequence(p, end, '[', ']', element);
}

}  // namespace json_scan
}  // namespace mast

#endif  // MAST_COMMON_JSON_SCAN_H_
