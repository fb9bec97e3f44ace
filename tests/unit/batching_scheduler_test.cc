#include "scheduler/batching_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <random>
#include <thread>

namespace mast {
namespace {

// y = 2x ([N,k] FP32) and sum = row sums ([N]); records every batch size and
// can hold calls at a gate.
class DoublingBackend : public Backend {
 public:
  DoublingBackend() {
    sig_.inputs.push_back({"x", DataType::kFp32, {-1, -1}});
    sig_.outputs.push_back({"y", DataType::kFp32, {-1, -1}});
    sig_.outputs.push_back({"sum", DataType::kFp32, {-1}});
  }
  std::string_view platform() const override { return "fake"; }
  const ModelSignature& signature() const override { return sig_; }
  StatusOr<std::vector<Tensor>> Run(const std::vector<Tensor>& inputs,
                                    const std::vector<std::string>& names) const override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      calls_.push_back(inputs.at(0).shape[0]);
      gate_cv_.wait(lock, [&] { return open_; });
    }
    const Tensor& x = inputs.at(0);
    const int64_t n = x.shape[0], k = x.shape[1];
    Tensor y = Tensor::Make("y", DataType::kFp32, {n, k});
    Tensor sum = Tensor::Make("sum", DataType::kFp32, {n});
    for (int64_t r = 0; r < n; ++r) {
      for (int64_t c = 0; c < k; ++c) {
        const float v = x.data<float>()[r * k + c];
        y.data<float>()[r * k + c] = 2 * v;
        sum.data<float>()[r] += v;
      }
    }
    std::vector<Tensor> all{std::move(y), std::move(sum)};
    if (names.empty()) return all;
    std::vector<Tensor> out;
    for (const auto& name : names) out.push_back(all[name == "y" ? 0 : 1]);
    return out;
  }
  std::vector<int64_t> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
  }
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    gate_cv_.notify_all();
  }

 private:
  ModelSignature sig_;
  mutable std::mutex mu_;
  mutable std::condition_variable gate_cv_;
  mutable std::vector<int64_t> calls_;
  bool open_ = true;
};

struct Fixture {
  std::shared_ptr<ModelVersion> model = std::make_shared<ModelVersion>();
  DoublingBackend* backend = nullptr;
  MetricsRegistry metrics;
  std::unique_ptr<Scheduler> scheduler;

  explicit Fixture(BatchingConfig config, int executors = 2) {
    auto b = std::make_unique<DoublingBackend>();
    backend = b.get();
    model->name = "m";
    model->version = "1";
    model->backend = std::move(b);
    model->manifest.batching = config;
    scheduler = MakeBatchingScheduler({executors}, &metrics);
  }
};

BatchingConfig On(int64_t max_batch, int64_t delay_us) {
  BatchingConfig c;
  c.enabled = true;
  c.max_batch_size = max_batch;
  c.max_queue_delay_us = delay_us;
  return c;
}

InferenceRequest Request(std::shared_ptr<const ModelVersion> model, int64_t rows, int64_t k,
                         float base, std::vector<std::string> names = {}) {
  InferenceRequest r;
  r.model = std::move(model);
  Tensor x = Tensor::Make("x", DataType::kFp32, {rows, k});
  for (int64_t i = 0; i < rows * k; ++i) x.data<float>()[i] = base + static_cast<float>(i);
  r.inputs.push_back(std::move(x));
  r.output_names = std::move(names);
  return r;
}

// Enqueues and waits for the answer.
StatusOr<std::vector<Tensor>> Call(Scheduler* s, InferenceRequest r) {
  std::promise<StatusOr<std::vector<Tensor>>> p;
  auto f = p.get_future();
  Status queued = s->Enqueue(std::move(r), [&p](StatusOr<std::vector<Tensor>> out, double) {
    p.set_value(std::move(out));
  });
  if (!queued.ok()) return queued;
  return f.get();
}

TEST(BatchingSchedulerTest, ConcurrentRequestsAreMergedAndAnswersEqualUnbatchedOnes) {
  Fixture f(On(16, 2000));
  std::atomic<int> wrong{0};
  std::atomic<int> total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < 40; ++i) {
        const int64_t rows = 1 + static_cast<int64_t>(rng() % 3);
        const float base = static_cast<float>(t * 1000 + i * 10);
        auto got = Call(f.scheduler.get(), Request(f.model, rows, 3, base));
        auto want = f.model->backend->Run(Request(f.model, rows, 3, base).inputs, {});
        ++total;
        if (!got.ok() || got->size() != 2 || (*got)[0].shape != (*want)[0].shape ||
            (*got)[0].bytes != (*want)[0].bytes || (*got)[1].bytes != (*want)[1].bytes) {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  // The reference runs above went to the backend one by one (640 calls):
  // batching made the others far fewer.
  const auto calls = f.backend->calls();
  int64_t batched_calls = static_cast<int64_t>(calls.size()) - total.load();
  EXPECT_LT(batched_calls, total.load() / 2) << "requests were not merged";
  for (int64_t rows : calls) EXPECT_LE(rows, 16);
  const std::string text = f.metrics.Render();
  EXPECT_NE(text.find("mast_batch_size_bucket{model=\"m\",version=\"1\""), std::string::npos);
  EXPECT_NE(text.find("mast_queue_duration_seconds_count{model=\"m\",version=\"1\"}"),
            std::string::npos);
}

TEST(BatchingSchedulerTest, EachRequestGetsTheOutputsItAskedForInItsOrder) {
  Fixture f(On(8, 500000));  // the four requests fill the batch: no wait
  f.backend->Close();
  std::vector<std::future<StatusOr<std::vector<Tensor>>>> answers;
  const std::vector<std::vector<std::string>> asks{{"sum"}, {"sum", "y"}, {}, {"y"}};
  for (size_t i = 0; i < asks.size(); ++i) {
    answers.push_back(std::async(std::launch::async, [&, i] {
      return Call(f.scheduler.get(), Request(f.model, 2, 2, 10.0f * i, asks[i]));
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  f.backend->Open();
  for (size_t i = 0; i < asks.size(); ++i) {
    auto got = answers[i].get();
    ASSERT_TRUE(got.ok()) << got.status().message();
    const std::vector<std::string> want_names =
        asks[i].empty() ? std::vector<std::string>{"y", "sum"} : asks[i];
    ASSERT_EQ(got->size(), want_names.size());
    for (size_t j = 0; j < want_names.size(); ++j) {
      EXPECT_EQ((*got)[j].name, want_names[j]);
      EXPECT_EQ((*got)[j].shape[0], 2);
    }
    // This request's own rows: x = base + {0,1} and base + {2,3}.
    const float base = 10.0f * i;
    for (const Tensor& t : *got) {
      if (t.name == "sum") {
        EXPECT_EQ(t.data<float>()[0], 2 * base + 1);
        EXPECT_EQ(t.data<float>()[1], 2 * base + 5);
      } else {
        EXPECT_EQ(t.data<float>()[3], 2 * (base + 3));
      }
    }
  }
  EXPECT_LT(f.backend->calls().size(), asks.size());
}

TEST(BatchingSchedulerTest, AFullQueueIsRefusedNotWaitedFor) {
  BatchingConfig c = On(1, 0);
  c.max_queue_size = 2;
  Fixture f(c, /*executors=*/1);
  f.backend->Close();
  std::vector<std::future<StatusOr<std::vector<Tensor>>>> running;
  running.push_back(std::async(std::launch::async,
                               [&] { return Call(f.scheduler.get(), Request(f.model, 1, 2, 0)); }));
  // The executor takes the first and blocks in the backend.
  for (int i = 0; i < 200 && f.backend->calls().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(f.backend->calls().size(), 1u);
  std::vector<std::promise<bool>> done(2);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(f.scheduler
                    ->Enqueue(Request(f.model, 1, 2, 0),
                              [&done, i](StatusOr<std::vector<Tensor>> out, double) {
                                done[i].set_value(out.ok());
                              })
                    .ok());
  }
  Status refused = f.scheduler->Enqueue(Request(f.model, 1, 2, 0),
                                        [](StatusOr<std::vector<Tensor>>, double) {
                                          ADD_FAILURE() << "a refused request was run";
                                        });
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.message().find("max_queue_size"), std::string::npos) << refused.message();
  f.backend->Open();
  EXPECT_TRUE(running[0].get().ok());
  EXPECT_TRUE(done[0].get_future().get());
  EXPECT_TRUE(done[1].get_future().get());
}

TEST(BatchingSchedulerTest, RequestsWaitingPastTheirTimeoutAreAnsweredUnavailable) {
  BatchingConfig c = On(1, 0);
  c.timeout_us = 20000;
  Fixture f(c, /*executors=*/1);
  f.backend->Close();
  auto first = std::async(std::launch::async,
                          [&] { return Call(f.scheduler.get(), Request(f.model, 1, 2, 0)); });
  for (int i = 0; i < 200 && f.backend->calls().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto late = std::async(std::launch::async,
                         [&] { return Call(f.scheduler.get(), Request(f.model, 1, 2, 0)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  f.backend->Open();
  EXPECT_TRUE(first.get().ok());
  auto got = late.get();
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(got.status().message().find("timeout_us"), std::string::npos);
  EXPECT_EQ(f.backend->calls().size(), 1u) << "the late request must not run";
}

TEST(BatchingSchedulerTest, ModelsWithoutBatchingRunInlineOnTheCallersThread) {
  Fixture f(BatchingConfig{});
  bool answered = false;
  std::thread::id ran_on;
  ASSERT_TRUE(f.scheduler
                  ->Enqueue(Request(f.model, 3, 2, 1),
                            [&](StatusOr<std::vector<Tensor>> out, double) {
                              answered = out.ok();
                              ran_on = std::this_thread::get_id();
                            })
                  .ok());
  EXPECT_TRUE(answered);  // before Enqueue returned
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(BatchingSchedulerTest, RequestsOfDifferentWidthsDoNotShareABatch) {
  Fixture f(On(64, 20000));
  f.backend->Close();
  auto a = std::async(std::launch::async,
                      [&] { return Call(f.scheduler.get(), Request(f.model, 2, 2, 0)); });
  auto b = std::async(std::launch::async,
                      [&] { return Call(f.scheduler.get(), Request(f.model, 2, 3, 0)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  f.backend->Open();
  auto ra = a.get();
  auto rb = b.get();
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_EQ((*ra)[0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ((*rb)[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ((*rb)[1].data<float>()[1], 3 + 4 + 5);
}

TEST(BatchingSchedulerTest, StopRunsWhatIsQueuedAndRefusesNewRequests) {
  Fixture f(On(64, 10'000'000));  // would wait 10 s for more rows
  std::promise<bool> done;
  ASSERT_TRUE(f.scheduler
                  ->Enqueue(Request(f.model, 1, 2, 0),
                            [&](StatusOr<std::vector<Tensor>> out, double) {
                              done.set_value(out.ok());
                            })
                  .ok());
  const auto start = std::chrono::steady_clock::now();
  f.scheduler->Stop();
  EXPECT_TRUE(done.get_future().get());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(f.scheduler->Enqueue(Request(f.model, 1, 2, 0),
                                 [](StatusOr<std::vector<Tensor>>, double) {})
                .code(),
            StatusCode::kUnavailable);
}

TEST(ConcatRowsTest, JoinsAndSlicesBackNumbersAndStrings) {
  Tensor a = Tensor::Make("t", DataType::kInt64, {1, 2});
  Tensor b = Tensor::Make("t", DataType::kInt64, {2, 2});
  for (int i = 0; i < 2; ++i) a.data<int64_t>()[i] = i;
  for (int i = 0; i < 4; ++i) b.data<int64_t>()[i] = 10 + i;
  auto joined = ConcatRows({&a, &b});
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ(joined->shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(joined->data<int64_t>()[2], 10);
  Tensor back = SliceRows(*joined, 1, 2);
  EXPECT_EQ(back.bytes, b.bytes);
  EXPECT_EQ(back.shape, b.shape);

  Tensor s1{"s", DataType::kBytes, {2}, {}, {"a", "b"}};
  Tensor s2{"s", DataType::kBytes, {1}, {}, {"c"}};
  auto strings = ConcatRows({&s1, &s2});
  ASSERT_TRUE(strings.ok());
  EXPECT_EQ(strings->strings, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(SliceRows(*strings, 2, 1).strings, s2.strings);

  Tensor wide = Tensor::Make("t", DataType::kInt64, {1, 3});
  EXPECT_FALSE(ConcatRows({&a, &wide}).ok());
}

}  // namespace
}  // namespace mast
