// Tensor: a named, typed, shaped block of values passed to and from backends.
//
// Numeric and BOOL data are stored contiguously in row-major order in
// `bytes`; BYTES (string) tensors keep one std::string per element in
// `strings`. A Tensor owns its data and is a plain value: copy or move it
// freely; no internal synchronisation.
#ifndef MAST_BACKENDS_TENSOR_H_
#define MAST_BACKENDS_TENSOR_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mast {

// Element types, named as the Open Inference Protocol names them.
enum class DataType { kBool, kInt32, kInt64, kFp32, kFp64, kBytes };

// "FP32", "INT64", ... (Open Inference Protocol spelling).
std::string_view DataTypeName(DataType type);
// Parses an Open Inference Protocol datatype name; nullopt if unknown or
// unsupported.
std::optional<DataType> ParseDataType(std::string_view name);
// Size of one element in bytes; 0 for BYTES.
size_t DataTypeSize(DataType type);

// Product of the dimensions; -1 dimensions are not allowed here.
int64_t ElementCount(const std::vector<int64_t>& shape);

struct Tensor {
  std::string name;
  DataType type = DataType::kFp32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;         // non-BYTES element data
  std::vector<std::string> strings;   // BYTES element data

  // Allocates zeroed storage for `shape` of `type`.
  static Tensor Make(std::string name, DataType type,
                     std::vector<int64_t> shape);

  int64_t size() const { return ElementCount(shape); }

  template <typename T>
  T* data() { return reinterpret_cast<T*>(bytes.data()); }
  template <typename T>
  const T* data() const { return reinterpret_cast<const T*>(bytes.data()); }

  // Element `i` converted to double (BYTES: not allowed).
  double AsDouble(int64_t i) const;
};

// The declared type and shape of one model input or output; -1 marks a
// dimension of any size (usually the batch).
struct TensorSpec {
  std::string name;
  DataType type = DataType::kFp32;
  std::vector<int64_t> shape;
};

}  // namespace mast

#endif  // MAST_BACKENDS_TENSOR_H_
