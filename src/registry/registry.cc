#include "registry/registry.h"

#include <filesystem>
#include <set>
#include <fstream>

#include <boost/json.hpp>

#include "common/json_writer.h"
#include "common/logging.h"
#include "models/model_loader.h"
#include "models/model_manifest.h"

namespace mast {

namespace json = boost::json;

std::string SignatureJson(const ModelSignature& sig) {
  auto specs = [](const std::vector<TensorSpec>& v) {
    json::array a;
    for (const auto& s : v) {
      json::array shape;
      for (int64_t d : s.shape) shape.push_back(d);
      a.push_back(json::object{{"name", s.name},
                               {"datatype", DataTypeName(s.type)},
                               {"shape", std::move(shape)}});
    }
    return a;
  };
  json::object o{{"inputs", specs(sig.inputs)}, {"outputs", specs(sig.outputs)}};
  if (!sig.feature_names.empty()) {
    json::array names;
    for (const auto& n : sig.feature_names) names.push_back(json::string(n));
    o["feature_names"] = std::move(names);
  }
  return ToJson(o);
}

StatusOr<ModelSignature> ParseSignatureJson(const json::value& value) {
  const json::object* o = value.if_object();
  if (o == nullptr) return InvalidArgument("signature: expected a JSON object");
  auto specs = [](const json::object& sig, const char* key,
                  std::vector<TensorSpec>* out) -> Status {
    const json::value* list = sig.if_contains(key);
    if (list == nullptr) return OkStatus();
    if (!list->is_array()) {
      return InvalidArgument(std::string("signature: '") + key + "' must be a list");
    }
    for (const auto& item : list->get_array()) {
      const json::object* t = item.if_object();
      const json::value* name = t ? t->if_contains("name") : nullptr;
      const json::value* type = t ? t->if_contains("datatype") : nullptr;
      const json::value* shape = t ? t->if_contains("shape") : nullptr;
      if (!name || !name->is_string() || !type || !type->is_string() || !shape ||
          !shape->is_array()) {
        return InvalidArgument(std::string("signature: each of '") + key +
                               "' needs a string name and datatype and a shape list");
      }
      TensorSpec spec;
      spec.name = std::string(name->get_string());
      std::optional<DataType> dt = ParseDataType(type->get_string());
      if (!dt) {
        return InvalidArgument("signature: '" + spec.name + "' has unknown datatype '" +
                               std::string(type->get_string()) + "'");
      }
      spec.type = *dt;
      for (const auto& d : shape->get_array()) {
        if (!d.is_int64()) {
          return InvalidArgument("signature: '" + spec.name + "' has a non-integer dimension");
        }
        spec.shape.push_back(d.get_int64());
      }
      out->push_back(std::move(spec));
    }
    return OkStatus();
  };
  ModelSignature sig;
  RETURN_IF_ERROR(specs(*o, "inputs", &sig.inputs));
  RETURN_IF_ERROR(specs(*o, "outputs", &sig.outputs));
  if (const json::value* names = o->if_contains("feature_names")) {
    if (!names->is_array()) return InvalidArgument("signature: 'feature_names' must be a list");
    for (const auto& n : names->get_array()) {
      if (!n.is_string()) return InvalidArgument("signature: 'feature_names' must be strings");
      sig.feature_names.emplace_back(n.get_string());
    }
  }
  return sig;
}

StatusOr<BlobInfo> Registry::PutBlob(std::string_view data) {
  if (data.empty()) return InvalidArgument("the artifact is empty");
  return blobs_->Put(data);
}

StatusOr<BlobInfo> Registry::PutBlobFile(const std::string& path, uint64_t size) {
  if (size == 0) return InvalidArgument("the artifact is empty");
  return blobs_->PutFile(path);
}

StatusOr<ModelVersionRecord> Registry::CreateVersion(const NewVersion& req) {
  RETURN_IF_ERROR(ValidateName("model name", req.model_name));
  ASSIGN_OR_RETURN(std::string path, blobs_->Path(req.digest));
  std::string format = req.format;
  if (format.empty()) {
    std::ifstream in(path, std::ios::binary);
    std::string head(4096, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
    format = std::string(DetectFormat(head));
  }
  if (!IsKnownFormat(format)) {
    return InvalidArgument("unknown format '" + format +
                           "' (use onnx, xgboost-json or xgboost-ubj)");
  }
  // A manifest that is not even YAML is the caller's mistake: refuse it
  // before recording anything.
  RETURN_IF_ERROR(ParseModelManifest(req.manifest, "manifest").status());

  ModelVersionRecord record;
  record.model_name = req.model_name;
  record.digest = req.digest;
  record.size_bytes = static_cast<int64_t>(std::filesystem::file_size(path));
  record.format = format;
  record.manifest = req.manifest;
  record.run_id = req.run_id;
  record.description = req.description;
  record.tags = req.tags;
  record.created_by = req.actor;
  ASSIGN_OR_RETURN(ModelVersionRecord created, store_->CreateVersion(record));

  // Test-load: READY only if the engine loads it and the manifest fits.
  ModelFiles files;
  files.artifact_path = path;
  files.format = format;
  files.manifest_text = req.manifest;
  files.manifest_origin = "model.yaml";
  files.expected_digest = req.digest;
  auto loaded = LoadModelVersion(req.model_name, std::to_string(created.version), files,
                                 backend_options_);
  if (loaded.ok()) {
    RETURN_IF_ERROR(store_->SetVersionStatus(req.model_name, created.version, VersionStatus::kReady,
                                             "", SignatureJson((*loaded)->backend->signature())));
  } else {
    // Messages name the blob path; the version's digest says which file.
    RETURN_IF_ERROR(store_->SetVersionStatus(req.model_name, created.version,
                                             VersionStatus::kFailed, loaded.status().message(), ""));
    LogWarning("pushed version failed its test load",
               {{"model", req.model_name},
                {"version", created.version},
                {"error", loaded.status().message()}});
  }
  return store_->GetVersion(req.model_name, created.version);
}

StatusOr<std::vector<std::string>> Registry::CollectGarbage(std::chrono::seconds min_age,
                                                           int* kept) {
  // Blobs first listed, then references read: a version created in between
  // references a blob younger than min_age, which is never removed.
  ASSIGN_OR_RETURN(std::vector<std::string> stored, blobs_->List());
  ASSIGN_OR_RETURN(std::set<std::string> referenced, store_->ReferencedDigests());
  std::vector<std::string> removed;
  *kept = 0;
  const auto now = std::filesystem::file_time_type::clock::now();
  for (const auto& digest : stored) {
    auto path = blobs_->Path(digest);
    std::error_code ec;
    const bool young = !path.ok() ||
                       now - std::filesystem::last_write_time(*path, ec) < min_age || ec;
    if (referenced.count(digest) || young) {
      ++*kept;
      continue;
    }
    RETURN_IF_ERROR(blobs_->Remove(digest));
    removed.push_back(digest);
    LogInfo("unreferenced blob removed", {{"digest", digest}});
  }
  return removed;
}

StatusOr<ModelSource> Registry::SourceFor(const ModelVersionRecord& record,
                                          const std::string& served_name) const {
  ASSIGN_OR_RETURN(std::string path, blobs_->Path(record.digest));
  ModelSource s;
  s.name = served_name;
  s.version = std::to_string(record.version);
  s.artifact_path = path;
  s.manifest_text = record.manifest;
  s.format = record.format;
  s.digest = record.digest;
  return s;
}

}  // namespace mast
