#include "models/model_manifest.h"

#include <gtest/gtest.h>

namespace mast {
namespace {

TEST(ModelManifestTest, ParsesFeaturesInOrder) {
  auto m = ParseModelManifest(
      "features:\n  - {name: age, type: float}\n  - name: plan\n    type: string\n"
      "  - {name: kids, type: int}\n  - {name: vip, type: bool}\n  - {name: x}\n",
      "model.yaml");
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->features.size(), 5u);
  EXPECT_EQ(m->features[0].name, "age");
  EXPECT_EQ(m->features[1].type, FeatureType::kString);
  EXPECT_EQ(m->features[2].type, FeatureType::kInt);
  EXPECT_EQ(m->features[3].type, FeatureType::kBool);
  EXPECT_EQ(m->features[4].type, FeatureType::kFloat);  // default
}

TEST(ModelManifestTest, EmptyManifestHasNoFeatures) {
  auto m = ParseModelManifest("", "model.yaml");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->features.empty());
}

TEST(ModelManifestTest, ErrorsNameTheFileAndTheEntry) {
  auto dup = ParseModelManifest("features: [{name: a}, {name: a}]", "m.yaml");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("m.yaml"), std::string::npos);
  EXPECT_NE(dup.status().message().find("duplicate feature 'a'"), std::string::npos);

  auto type = ParseModelManifest("features: [{name: a, type: complex}]", "m.yaml");
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.status().message().find("unknown type 'complex'"), std::string::npos);

  auto yaml = ParseModelManifest("features: [", "m.yaml");
  ASSERT_FALSE(yaml.ok());
  EXPECT_NE(yaml.status().message().find("invalid YAML"), std::string::npos);

  auto noname = ParseModelManifest("features: [{type: float}]", "m.yaml");
  ASSERT_FALSE(noname.ok());
  EXPECT_NE(noname.status().message().find("features[0] needs a 'name'"), std::string::npos);
}

TEST(ModelManifestTest, MissingFileIsAnEmptyManifest) {
  auto m = LoadModelManifest("/nonexistent/model.yaml");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->features.empty());
}

}  // namespace
}  // namespace mast

namespace mast {
namespace {

TEST(ModelManifestTest, ParsesConstraintsDefaultsAndPolicy) {
  auto m = ParseModelManifest(R"(
unknown_fields: forbid
features:
  - {name: age, type: float, min: 0, max: 120, default: 40, description: years}
  - {name: plan, type: string, categories: [basic, pro], pii: true}
  - {name: vip, type: bool, default: true}
  - {name: email, type: string, pii: drop}
  - {name: phone, type: string, pii: hash}
  - {name: city, type: string, pii: false}
)",
                              "model.yaml");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->unknown_fields, UnknownFieldPolicy::kForbid);
  const auto& age = m->features[0];
  EXPECT_EQ(*age.min, 0);
  EXPECT_EQ(*age.max, 120);
  EXPECT_EQ(*age.default_number, 40);
  EXPECT_FALSE(age.required());
  EXPECT_EQ(age.description, "years");
  const auto& plan = m->features[1];
  EXPECT_EQ(plan.categories, (std::vector<std::string>{"basic", "pro"}));
  EXPECT_EQ(plan.pii, PiiPolicy::kHash);
  EXPECT_EQ(age.pii, PiiPolicy::kNone);
  EXPECT_EQ(m->features[3].pii, PiiPolicy::kDrop);
  EXPECT_EQ(m->features[4].pii, PiiPolicy::kHash);
  EXPECT_EQ(m->features[5].pii, PiiPolicy::kNone);
  EXPECT_TRUE(plan.required());
  EXPECT_EQ(*m->features[2].default_number, 1.0);
}

TEST(ModelManifestTest, InconsistentConstraintsAreRejectedNamingTheFeature) {
  for (const char* yaml : {"features: [{name: a, min: 5, max: 1}]",
                           "features: [{name: a, type: string, min: 1}]",
                           "features: [{name: a, categories: [x]}]",
                           "features: [{name: a, min: low}]",
                           "features: [{name: a, type: int, default: many}]",
                           "features: [{name: a, pii: maybe}]",
                           "unknown_fields: drop\nfeatures: [{name: a}]"}) {
    auto m = ParseModelManifest(yaml, "model.yaml");
    ASSERT_FALSE(m.ok()) << yaml;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument) << yaml;
    EXPECT_NE(m.status().message().find("model.yaml"), std::string::npos) << yaml;
  }
}

}  // namespace
}  // namespace mast

namespace mast {
namespace {

TEST(ModelManifestBatchingTest, BatchingAndBackendSettingsAreRead) {
  auto m = ParseModelManifest(R"(
batching: {max_batch_size: 64, max_queue_delay_us: 250, max_queue_size: 100, timeout_us: 5000}
backend: {intra_op_threads: 2, inter_op_threads: 1, graph_optimization: basic}
)",
                              "model.yaml");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_TRUE(m->batching.enabled);
  EXPECT_EQ(m->batching.max_batch_size, 64);
  EXPECT_EQ(m->batching.max_queue_delay_us, 250);
  EXPECT_EQ(m->batching.max_queue_size, 100);
  EXPECT_EQ(m->batching.timeout_us, 5000);
  EXPECT_EQ(*m->backend.intra_op_threads, 2);
  EXPECT_EQ(*m->backend.graph_optimization, "basic");

  auto off = ParseModelManifest("features: [{name: a}]", "model.yaml");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->batching.enabled);
  EXPECT_FALSE(off->backend.intra_op_threads.has_value());
  auto disabled = ParseModelManifest("batching: {enabled: false}", "model.yaml");
  ASSERT_TRUE(disabled.ok());
  EXPECT_FALSE(disabled->batching.enabled);
}

TEST(ModelManifestBatchingTest, BadSettingsNameTheKey) {
  for (const auto& [yaml, key] : std::vector<std::pair<std::string, std::string>>{
           {"batching: {max_batch_size: 0}", "max_batch_size"},
           {"batching: {max_queue_delay_us: soon}", "max_queue_delay_us"},
           {"batching: {max_batch: 8}", "max_batch"},
           {"batching: 8", "batching"},
           {"backend: {graph_optimization: turbo}", "graph_optimization"},
           {"backend: {intra_op_threads: 0}", "intra_op_threads"}}) {
    auto m = ParseModelManifest(yaml, "model.yaml");
    ASSERT_FALSE(m.ok()) << yaml;
    EXPECT_NE(m.status().message().find(key), std::string::npos) << m.status().message();
    EXPECT_NE(m.status().message().find("model.yaml"), std::string::npos);
  }
}

}  // namespace
}  // namespace mast
