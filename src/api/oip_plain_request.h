// The most common form of an Open Inference Protocol infer request, read
// from its text without building a JSON document (json_scan): the infer
// handler's fast path. Anything else (another member such as "outputs" or
// "parameters", several inputs, nested data, BYTES, escapes, non-ASCII
// text, numbers boost::json might read differently) is not read, and the
// handler parses the document as for any request.
//
// Thread-safety: pure functions.
#ifndef MAST_API_OIP_PLAIN_REQUEST_H_
#define MAST_API_OIP_PLAIN_REQUEST_H_

#include <boost/json/value.hpp>
#include <cstdint>
#include <string_view>
#include <vector>

namespace mast {

// An infer request in its most common form: one input, with a name, a
// shape of non-negative integers, a datatype and a flat array of numbers or
// booleans, and optionally an "id"; members in any order, every string
// plain (json_scan). The views point into the text read.
struct PlainInferRequest {
  bool has_id = false;
  std::string_view id, name, datatype;
  std::vector<int64_t> shape;
  std::vector<boost::json::value> data;
};

// Reads `text` into `out` if it is a PlainInferRequest; false if not.
bool ReadPlainInferRequest(std::string_view text, PlainInferRequest* out);

}  // namespace mast

#endif  // MAST_API_OIP_PLAIN_REQUEST_H_
