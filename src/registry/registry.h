// Registry: the model registry's operations above the store: pushing a
// version (artifact to the blob store, record PENDING, test-load, READY or
// FAILED with the reason), and loading a registered version for serving.
//
// A pushed artifact becomes READY only if it loads in its engine and its
// manifest (model.yaml) fits the model's inputs; otherwise it is FAILED with
// the reason and never served. The blob's digest is checked again before
// every load.
//
// Thread-safety: all methods are safe from any thread; they block (disk,
// database, model loads), so never call them on an I/O thread.
// Ownership: borrows the store and blob store, which must outlive it.
#ifndef MAST_REGISTRY_REGISTRY_H_
#define MAST_REGISTRY_REGISTRY_H_

#include <chrono>
#include <memory>
#include <string>

#include <boost/json/value.hpp>

#include "backends/backend.h"
#include "models/model_manager.h"
#include "store/blob_store.h"
#include "store/registry_store.h"

namespace mast {

struct NewVersion {
  std::string model_name;
  std::string digest;    // a blob already stored with PutBlob()
  std::string format;    // empty: detected from the content
  std::string manifest;  // model.yaml text, may be empty
  std::string run_id;
  std::string description;
  Tags tags;
  std::string actor;
};

class Registry {
 public:
  Registry(RegistryStore* store, BlobStore* blobs, BackendOptions backend_options)
      : store_(store), blobs_(blobs), backend_options_(backend_options) {}
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  RegistryStore* store() { return store_; }
  BlobStore* blobs() { return blobs_; }

  // Stores artifact bytes; returns their digest and size.
  StatusOr<BlobInfo> PutBlob(std::string_view data);
  // Stores the artifact in the file at `path`, moving the file (see
  // BlobStore::PutFile).
  StatusOr<BlobInfo> PutBlobFile(const std::string& path, uint64_t size);

  // Records a version of an existing model and test-loads it. Returns the
  // version as it ends: READY, or FAILED with status_message saying why (a
  // FAILED version is still a successful call). Errors: kNotFound for an
  // unknown model or blob, kInvalidArgument for an unknown format or a
  // manifest that is not valid YAML.
  StatusOr<ModelVersionRecord> CreateVersion(const NewVersion& request);

  // Removes stored artifacts no version references and older than
  // `min_age` (younger ones may belong to a push in progress). Returns the
  // removed digests; `kept` is set to the number of blobs left.
  StatusOr<std::vector<std::string>> CollectGarbage(std::chrono::seconds min_age, int* kept);

  // Where the serving side finds a registered version (blob path, format,
  // manifest text, digest to verify). Errors: kNotFound if the blob is gone.
  StatusOr<ModelSource> SourceFor(const ModelVersionRecord& record,
                                  const std::string& served_name) const;

 private:
  RegistryStore* store_;
  BlobStore* blobs_;
  BackendOptions backend_options_;
};

// {"inputs": [{"name","datatype","shape"}], "outputs": [...]} as JSON text.
std::string SignatureJson(const ModelSignature& signature);

// The inverse of SignatureJson() for what it records (inputs, outputs,
// feature_names; not the classifier outputs), e.g. a version's "signature"
// from the REST API. Errors: kInvalidArgument naming what is malformed.
StatusOr<ModelSignature> ParseSignatureJson(const boost::json::value& signature);

}  // namespace mast

#endif  // MAST_REGISTRY_REGISTRY_H_
