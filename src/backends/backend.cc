#include "backends/backend.h"

#include <filesystem>

#include "backends/onnx_backend.h"
#include "backends/xgboost_backend.h"

namespace mast {

StatusOr<std::unique_ptr<Backend>> LoadBackend(const std::string& path,
                                               const BackendOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFound("model file '" + path + "' does not exist");
  }
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".onnx") return LoadOnnxBackend(path, options);
  if (ext == ".json" || ext == ".ubj") return LoadXgboostBackend(path, options);
  return InvalidArgument("model file '" + path +
                         "' has an unknown format (expected .onnx, .json or "
                         ".ubj)");
}

}  // namespace mast
