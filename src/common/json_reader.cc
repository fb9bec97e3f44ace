#include "common/json_reader.h"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>

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

}  // namespace mast
