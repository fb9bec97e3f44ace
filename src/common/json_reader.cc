#include "common/json_reader.h"

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>
#include <cstdint>

namespace mast {

namespace json = boost::json;

json::value ParseJson(std::string_view text, boost::system::error_code& ec) {
  // The parser keeps its working stack between documents.
  thread_local json::parser parser;
  // A value takes little more memory than its text; the arena grows if not.
  json::storage_ptr arena =
      json::make_shared_resource<json::monotonic_resource>(text.size() * 2 + 256);
  parser.reset(std::move(arena));
  parser.write(text.data(), text.size(), ec);
  if (ec) {
    parser.reset();
    return nullptr;
  }
  return parser.release();
}

namespace {

// A handler that keeps nothing: the parser alone says where a text fails.
struct NullHandler {
  static constexpr size_t max_object_size = std::size_t(-1);
  static constexpr size_t max_array_size = std::size_t(-1);
  static constexpr size_t max_key_size = std::size_t(-1);
  static constexpr size_t max_string_size = std::size_t(-1);
  using ec_t = boost::system::error_code;
  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_array_begin(ec_t&) { return true; }
  bool on_array_end(std::size_t, ec_t&) { return true; }
  bool on_object_begin(ec_t&) { return true; }
  bool on_object_end(std::size_t, ec_t&) { return true; }
  bool on_string_part(json::string_view, std::size_t, ec_t&) { return true; }
  bool on_string(json::string_view, std::size_t, ec_t&) { return true; }
  bool on_key_part(json::string_view, std::size_t, ec_t&) { return true; }
  bool on_key(json::string_view, std::size_t, ec_t&) { return true; }
  bool on_number_part(json::string_view, ec_t&) { return true; }
  bool on_int64(int64_t, json::string_view, ec_t&) { return true; }
  bool on_uint64(uint64_t, json::string_view, ec_t&) { return true; }
  bool on_double(double, json::string_view, ec_t&) { return true; }
  bool on_bool(bool, ec_t&) { return true; }
  bool on_null(ec_t&) { return true; }
  bool on_comment_part(json::string_view, ec_t&) { return true; }
  bool on_comment(json::string_view, ec_t&) { return true; }
};

using NullParser = json::basic_parser<NullHandler>;

// Feeds `text[from, to)` to `parser` `step` bytes at a time; returns the
// offset of the piece the parser failed in or stopped before (extra data
// after the document), or `to`.
size_t Feed(NullParser& parser, std::string_view text, size_t from, size_t to, size_t step) {
  for (size_t at = from; at < to; at += step) {
    const size_t n = std::min(step, to - at);
    boost::system::error_code ec;
    const size_t used = parser.write_some(true, text.data() + at, n, ec);
    if (ec || used < n) return ec ? at : at + used;
  }
  return to;
}

// Where a parser reading `text` from the start fails: the offset of the
// first byte it rejects (text.size() if the text just ends too soon).
size_t FailingOffset(std::string_view text) {
  // Pieces of 64 bytes find the piece; one byte at a time within it finds
  // the byte. Parser state does not depend on how the text was split.
  constexpr size_t kPiece = 64;
  size_t piece;
  {
    NullParser coarse(json::parse_options{});
    piece = Feed(coarse, text, 0, text.size(), kPiece);
  }
  if (piece >= text.size()) return text.size();
  piece -= piece % kPiece;
  NullParser fine(json::parse_options{});
  if (Feed(fine, text, 0, piece, piece == 0 ? 1 : piece) < piece) return piece;
  return Feed(fine, text, piece, std::min(text.size(), piece + kPiece), 1);
}

// Offset of the first byte of `text` that is not part of a well-formed
// UTF-8 sequence (no overlong forms, surrogates or code points above
// U+10FFFF), or text.size().
size_t FirstInvalidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > n || s[i + 1] < lo || s[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if (s[i + k] < 0x80 || s[i + k] > 0xBF) return i;
    }
    i += len;
  }
  return n;
}

// "line L, column C" of byte `offset` (both from 1; columns count bytes).
std::string Position(std::string_view text, size_t offset) {
  const std::string_view before = text.substr(0, offset);
  const size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
  const size_t newline = before.rfind('\n');
  const size_t column = newline == std::string_view::npos ? offset + 1 : offset - newline;
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

std::string DescribeJsonError(std::string_view text, const boost::system::error_code& ec) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return "the body is empty";
  const size_t offset = FailingOffset(text);
  const size_t bad_utf8 = FirstInvalidUtf8(text);
  if (bad_utf8 <= offset && bad_utf8 < text.size()) {
    return "invalid UTF-8 at " + Position(text, bad_utf8);
  }
  if (offset >= text.size()) {
    // The text ended inside the document; or the parser found no fault and
    // the error came from building the value (a limit).
    return ec == json::error::incomplete
               ? "the document ends too soon, at " + Position(text, offset)
               : ec.message();
  }
  const std::string reason =
      ec == json::error::too_deep
          ? "nested more than " + std::to_string(json::parse_options{}.max_depth) + " levels deep"
          : ec.message();
  return reason + " at " + Position(text, offset);
}

}  // namespace mast
