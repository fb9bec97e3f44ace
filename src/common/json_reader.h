// JsonReader: parses request bodies into boost::json values cheaply. The
// value's memory comes from one arena sized for the text (freed with the
// last copy of the value), and the parser's working stack is reused per
// thread, so a parse costs two allocations instead of one per string, array
// and object. Same limits and errors as boost::json::parse (depth 32, no
// comments, no trailing commas).
//
// Thread-safety: safe from any thread (per-thread parser).
#ifndef MAST_COMMON_JSON_READER_H_
#define MAST_COMMON_JSON_READER_H_

#include <string>
#include <string_view>

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

namespace mast {

// Parses `text` as one JSON document. On error sets `ec` and returns null.
boost::json::value ParseJson(std::string_view text, boost::system::error_code& ec);

// Why `text` is not one JSON document, for a client: the parser's reason
// and where it stopped, "syntax error at line 2, column 7", or "invalid
// UTF-8 at line 1, column 12" when the text stops being UTF-8 first, or
// "the body is empty". `ec` is the error ParseJson or boost::json::parse
// gave for `text`. Costs two parses of `text`: for error paths only.
std::string DescribeJsonError(std::string_view text, const boost::system::error_code& ec);

}  // namespace mast

#endif  // MAST_COMMON_JSON_READER_H_
