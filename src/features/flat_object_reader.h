// ReadFlatObject: reads the common shape of a /predict body, one JSON object
// whose members are numbers, booleans, nulls and plain strings, in one pass
// over the text and without building a document: several times fewer
// instructions than boost::json's general parser for the same body.
//
// It reads only what it can read exactly as boost::json does (the values it
// stores are bit for bit the ones boost::json::parse gives) and gives up on
// anything else, valid or not: nesting, a string with an escape or a byte
// outside ASCII (UTF-8 is then the general parser's to check), a number with
// more than 15 digits or an exponent of more than 3 digits, a malformed
// text. The caller then takes the general parser.
//
// Thread-safety: a pure function of its arguments.
#ifndef MAST_FEATURES_FLAT_OBJECT_READER_H_
#define MAST_FEATURES_FLAT_OBJECT_READER_H_

#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value.hpp>

namespace mast {

namespace flat_object_detail {

inline bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

inline const char* SkipSpace(const char* p, const char* end) {
  while (p < end && IsSpace(*p)) ++p;
  return p;
}

// The closing quote of a string whose text starts at `p`, if the text is
// plain (ASCII, no escape, no control character); else nullptr. Looks at 16
// bytes at a time where the CPU has SSE2 (every x86-64 does).
inline const char* PlainStringEnd(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  while (end - p >= 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Bytes below 0x20 and from 0x80 up are both below 0x20 as signed bytes.
    const __m128i stops = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)),
        _mm_cmplt_epi8(chunk, space));
    const int mask = _mm_movemask_epi8(stops);
    if (mask != 0) {
      p += __builtin_ctz(static_cast<unsigned>(mask));
      return *p == '"' ? p : nullptr;
    }
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"') return p;
    if (c == '\\' || c < 0x20 || c >= 0x80) return nullptr;
  }
  return nullptr;
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

}  // namespace flat_object_detail

// Reads `text` as one flat JSON object. For each member calls
// `slot(key, &stop)`, which returns where the member's value goes (nullptr:
// the value is read and dropped) or sets `stop` to give up. Returns true
// once the whole text was read; false if it gave up or could not read the
// text (the slots then hold a partial result).
template <typename SlotFn>
bool ReadFlatObject(std::string_view text, SlotFn&& slot) {
  using namespace flat_object_detail;
  const char* p = text.data();
  const char* const end = p + text.size();
  p = SkipSpace(p, end);
  if (p >= end || *p != '{') return false;
  p = SkipSpace(p + 1, end);
  if (p < end && *p == '}') return SkipSpace(p + 1, end) == end;
  for (;;) {
    if (p >= end || *p != '"') return false;
    const char* key_end = PlainStringEnd(p + 1, end);
    if (key_end == nullptr) return false;
    const std::string_view key(p + 1, static_cast<size_t>(key_end - p - 1));
    p = SkipSpace(key_end + 1, end);
    if (p >= end || *p != ':') return false;
    p = SkipSpace(p + 1, end);
    if (p >= end) return false;
    bool stop = false;
    boost::json::value* out = slot(key, &stop);
    if (stop) return false;
    switch (*p) {
      case '"': {
        const char* string_end = PlainStringEnd(p + 1, end);
        if (string_end == nullptr) return false;
        if (out != nullptr) out->emplace_string().assign(p + 1, static_cast<size_t>(string_end - p - 1));
        p = string_end + 1;
        break;
      }
      case 't':
        if (end - p < 4 || std::memcmp(p, "true", 4) != 0) return false;
        if (out != nullptr) out->emplace_bool() = true;
        p += 4;
        break;
      case 'f':
        if (end - p < 5 || std::memcmp(p, "false", 5) != 0) return false;
        if (out != nullptr) out->emplace_bool() = false;
        p += 5;
        break;
      case 'n':
        if (end - p < 4 || std::memcmp(p, "null", 4) != 0) return false;
        if (out != nullptr) out->emplace_null();
        p += 4;
        break;
      default:
        p = ReadNumber(p, end, out);
        if (p == nullptr) return false;
    }
    p = SkipSpace(p, end);
    if (p >= end) return false;
    if (*p == '}') return SkipSpace(p + 1, end) == end;
    if (*p != ',') return false;
    p = SkipSpace(p + 1, end);
  }
}

}  // namespace mast

#endif  // MAST_FEATURES_FLAT_OBJECT_READER_H_
