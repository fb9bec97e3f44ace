#include "backends/backend.h"

#include <filesystem>

#include "backends/onnx_backend.h"
#include "backends/xgboost_backend.h"

namespace mast {

std::string_view FormatForPath(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".onnx") return kFormatOnnx;
  if (ext == ".json") return kFormatXgboostJson;
  if (ext == ".ubj") return kFormatXgboostUbj;
  return {};
}

std::string_view DetectFormat(std::string_view head) {
  if (head.empty() || head.front() != '{') return kFormatOnnx;
  // A JSON object continues with whitespace, a quote or '}'; UBJ continues
  // with a type marker.
  const char next = head.size() > 1 ? head[1] : '}';
  const bool json = next == '"' || next == '}' || next == ' ' || next == '\n' ||
                    next == '\r' || next == '\t';
  return json ? kFormatXgboostJson : kFormatXgboostUbj;
}

bool IsKnownFormat(std::string_view f) {
  return f == kFormatOnnx || f == kFormatXgboostJson || f == kFormatXgboostUbj;
}

StatusOr<std::unique_ptr<Backend>> LoadBackend(const std::string& path,
                                               const BackendOptions& options,
                                               std::string_view format) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFound("model file '" + path + "' does not exist");
  }
  if (format.empty()) format = FormatForPath(path);
  if (format == kFormatOnnx) return LoadOnnxBackend(path, options);
  if (format == kFormatXgboostJson || format == kFormatXgboostUbj) {
    return LoadXgboostBackend(path, options);
  }
  return InvalidArgument("model file '" + path +
                         "' has an unknown format (expected .onnx, .json or "
                         ".ubj)");
}

}  // namespace mast
