// Conversions between tensors and JSON values, shared by the classic and the
// Open Inference Protocol APIs.
//
// Thread-safety: pure functions.
#ifndef MAST_API_TENSOR_JSON_H_
#define MAST_API_TENSOR_JSON_H_

#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "backends/tensor.h"
#include "common/status.h"

namespace mast {

// Element `i` as JSON. FP32 values are written as the shortest decimal that
// reads back as the same float (0.1f -> 0.1, not 0.10000000149011612).
boost::json::value ElementToJson(const Tensor& t, int64_t i);

// All elements in row-major order.
boost::json::array FlatToJson(const Tensor& t);

// One JSON value per row (first dimension): a scalar when each row holds one
// element, else an array of the row's elements.
boost::json::array RowsToJson(const Tensor& t);

// Appends FlatToJson(t) as JSON text to `out`, without building the array.
void AppendFlatJson(const Tensor& t, std::string* out);

// Appends RowsToJson(t) as JSON text to `out`, without building the array.
void AppendRowsJson(const Tensor& t, std::string* out);

// Fills `t` (type and shape already set, storage allocated) from `data`, a
// flat or nested JSON array (or a single scalar for one element). Errors
// (kInvalidArgument) name `t.name`: element count differs from the shape,
// or an element has the wrong JSON type or does not fit the datatype.
Status FillTensorFromJson(const boost::json::value& data, Tensor* t);

// Builds tensor `name` of `type` and `shape` from `data`, with the checks of
// FillTensorFromJson. The element count is compared with the shape before
// any storage is allocated, so a request declaring a huge shape with little
// data costs nothing (Tensor::Make followed by FillTensorFromJson would
// allocate the whole shape first). Errors: kInvalidArgument naming `name`.
StatusOr<Tensor> TensorFromJson(std::string name, DataType type, std::vector<int64_t> shape,
                                const boost::json::value& data);

// TensorFromJson for data already flattened: `leaves` are its scalars in
// row-major order.
StatusOr<Tensor> TensorFromLeaves(std::string name, DataType type, std::vector<int64_t> shape,
                                  const std::vector<const boost::json::value*>& leaves);

}  // namespace mast

#endif  // MAST_API_TENSOR_JSON_H_
