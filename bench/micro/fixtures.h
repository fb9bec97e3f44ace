// Inputs shared by the micro-benchmarks: the committed fixtures they read
// (the churn example's /predict body, the 20-feature and the transforms
// manifests) and bodies of N rows built from them.
//
// Every helper aborts with a message if a fixture is missing or does not
// load: a benchmark on the wrong input measures nothing.
#ifndef MAST_BENCH_MICRO_FIXTURES_H_
#define MAST_BENCH_MICRO_FIXTURES_H_

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <boost/json.hpp>

#include "backends/backend.h"
#include "features/feature_mapper.h"
#include "models/model_manifest.h"

namespace mast::bench {

// `relative` inside the source tree.
inline std::string SourcePath(const std::string& relative) {
  return std::string(MAST_SOURCE_DIR) + "/" + relative;
}

[[noreturn]] inline void Die(const std::string& what) {
  std::fprintf(stderr, "mast_microbench: %s\n", what.c_str());
  std::abort();
}

inline std::string ReadSource(const std::string& relative) {
  std::ifstream in(SourcePath(relative), std::ios::binary);
  if (!in) Die("cannot read " + SourcePath(relative));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The churn model's /predict body: one object of 20 named floats.
inline const boost::json::object& ChurnRow() {
  static const boost::json::object row =
      boost::json::parse(ReadSource("examples/churn/sample.json")).as_object();
  return row;
}

// `rows` copies of `row` as a JSON body: the object itself for 1, else an
// array of that many objects.
inline std::string BodyOfRows(const boost::json::object& row, int64_t rows) {
  if (rows == 1) return boost::json::serialize(row);
  boost::json::array a;
  for (int64_t i = 0; i < rows; ++i) a.push_back(row);
  return boost::json::serialize(a);
}

// One FP32 matrix input [-1, width] and the outputs of a scikit-learn
// classifier converted to ONNX (label [-1], probabilities [-1, 2]), the
// signature of examples/churn/model.onnx.
inline ModelSignature ClassifierSignature(int64_t width) {
  ModelSignature sig;
  sig.inputs.push_back({"float_input", DataType::kFp32, {-1, width}});
  sig.outputs.push_back({"label", DataType::kInt64, {-1}});
  sig.outputs.push_back({"probabilities", DataType::kFp32, {-1, 2}});
  sig.probabilities_output = "probabilities";
  sig.is_classifier = true;
  return sig;
}

inline ModelManifest LoadManifest(const std::string& relative) {
  auto manifest = LoadModelManifest(SourcePath(relative));
  if (!manifest.ok()) Die(manifest.status().message());
  return std::move(manifest).value();
}

// The mapper /predict uses for a manifest that fills 20 FP32 columns.
inline std::unique_ptr<FeatureMapper> MapperFor(const ModelManifest& manifest) {
  auto mapper = FeatureMapper::Create(ClassifierSignature(20), manifest);
  if (!mapper.ok()) Die(mapper.status().message());
  return std::move(mapper).value();
}

}  // namespace mast::bench

#endif  // MAST_BENCH_MICRO_FIXTURES_H_
