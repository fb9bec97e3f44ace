#include "backends/tensor.h"

#include <cassert>

namespace mast {

std::string_view DataTypeName(DataType type) {
  switch (type) {
    case DataType::kBool: return "BOOL";
    case DataType::kInt32: return "INT32";
    case DataType::kInt64: return "INT64";
    case DataType::kFp32: return "FP32";
    case DataType::kFp64: return "FP64";
    case DataType::kBytes: return "BYTES";
  }
  return "BYTES";
}

std::optional<DataType> ParseDataType(std::string_view name) {
  if (name == "BOOL") return DataType::kBool;
  if (name == "INT32") return DataType::kInt32;
  if (name == "INT64") return DataType::kInt64;
  if (name == "FP32") return DataType::kFp32;
  if (name == "FP64") return DataType::kFp64;
  if (name == "BYTES") return DataType::kBytes;
  return std::nullopt;
}

size_t DataTypeSize(DataType type) {
  switch (type) {
    case DataType::kBool: return 1;
    case DataType::kInt32: return 4;
    case DataType::kInt64: return 8;
    case DataType::kFp32: return 4;
    case DataType::kFp64: return 8;
    case DataType::kBytes: return 0;
  }
  return 0;
}

int64_t ElementCount(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Tensor Tensor::Make(std::string name, DataType type,
                    std::vector<int64_t> shape) {
  Tensor t;
  t.name = std::move(name);
  t.type = type;
  t.shape = std::move(shape);
  const int64_t n = t.size();
  if (type == DataType::kBytes) {
    t.strings.resize(static_cast<size_t>(n));
  } else {
    t.bytes.assign(static_cast<size_t>(n) * DataTypeSize(type), 0);
  }
  return t;
}

double Tensor::AsDouble(int64_t i) const {
  switch (type) {
    case DataType::kBool: return data<uint8_t>()[i] ? 1.0 : 0.0;
    case DataType::kInt32: return data<int32_t>()[i];
    case DataType::kInt64: return static_cast<double>(data<int64_t>()[i]);
    case DataType::kFp32: return data<float>()[i];
    case DataType::kFp64: return data<double>()[i];
    case DataType::kBytes: break;
  }
  assert(false && "AsDouble on a BYTES tensor");
  return 0;
}

}  // namespace mast
