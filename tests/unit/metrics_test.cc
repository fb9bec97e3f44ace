#include "monitor/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace mast {
namespace {

TEST(MetricsTest, CounterRendersWithLabelsAndExactValue) {
  MetricsRegistry registry;
  auto* requests = registry.AddCounter("mast_test_total", "Test counter.", {"model", "code"});
  requests->WithLabels({"churn", "200"})->Increment();
  requests->WithLabels({"churn", "200"})->Increment(2);
  requests->WithLabels({"churn", "422"})->Increment();
  const std::string text = registry.Render();
  EXPECT_NE(text.find("# TYPE mast_test_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("mast_test_total{model=\"churn\",code=\"200\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("mast_test_total{model=\"churn\",code=\"422\"} 1\n"), std::string::npos);
}

TEST(MetricsTest, SameLabelsGiveTheSameChild) {
  MetricsRegistry registry;
  auto* f = registry.AddGauge("mast_g", "G.", {"a"});
  EXPECT_EQ(f->WithLabels({"x"}), f->WithLabels({"x"}));
  EXPECT_NE(f->WithLabels({"x"}), f->WithLabels({"y"}));
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  MetricsRegistry registry;
  registry.AddGauge("mast_g", "G.", {"a"})->WithLabels({"q\"b\\n\n"})->Set(1);
  EXPECT_NE(registry.Render().find("mast_g{a=\"q\\\"b\\\\n\\n\"} 1"), std::string::npos);
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  MetricsRegistry registry;
  static const std::vector<double> kBounds = {0.1, 1.0};
  auto* h = registry.AddHistogram("mast_h_seconds", "H.", {}, &kBounds)->WithLabels({});
  h->Observe(0.05);
  h->Observe(0.1);  // bounds are inclusive
  h->Observe(0.5);
  h->Observe(5);
  const std::string text = registry.Render();
  EXPECT_NE(text.find("mast_h_seconds_bucket{le=\"0.1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("mast_h_seconds_bucket{le=\"1\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("mast_h_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("mast_h_seconds_count 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("mast_h_seconds_sum 5.65\n"), std::string::npos) << text;
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  MetricsRegistry registry;
  auto* family = registry.AddCounter("mast_c_total", "C.", {"t"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) family->WithLabels({"x"})->Increment();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(family->WithLabels({"x"})->value(), 40000);
}

TEST(MetricsTest, ProcessMetricsAreReadFromProc) {
  std::string text;
  RenderProcessMetrics(&text);
  for (const char* name : {"process_cpu_seconds_total ", "process_resident_memory_bytes ",
                           "process_open_fds ", "process_max_fds ",
                           "process_start_time_seconds "}) {
    EXPECT_NE(text.find(std::string("\n") + name), std::string::npos) << name;
  }
  // Resident memory of a running test binary is well above a megabyte.
  auto pos = text.find("\nprocess_resident_memory_bytes ");
  double rss = std::stod(text.substr(pos + 31));
  EXPECT_GT(rss, 1e6);
}

}  // namespace
}  // namespace mast
