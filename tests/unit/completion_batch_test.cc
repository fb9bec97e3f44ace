#include "common/completion_batch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mast {
namespace {

struct Flushed {
  std::vector<std::pair<int, std::vector<std::string>>> calls;  // target, order
};
Flushed* g_flushed = nullptr;
std::vector<std::string>* g_ran = nullptr;

void Record(void* target, CompletionBatch::Work work) {
  std::vector<std::string> before = *g_ran;
  for (auto& f : work) f();
  std::vector<std::string> ran(g_ran->begin() + static_cast<long>(before.size()), g_ran->end());
  g_flushed->calls.push_back({*static_cast<int*>(target), ran});
}

std::function<void()> Say(std::string s) {
  return [s] { g_ran->push_back(s); };
}

TEST(CompletionBatchTest, WithoutAScopeNothingIsDeferred) {
  int target = 1;
  auto fn = Say("a");
  EXPECT_FALSE(CompletionBatch::Defer(&target, &Record, fn));
  EXPECT_TRUE(static_cast<bool>(fn)) << "the caller keeps its work";
}

TEST(CompletionBatchTest, WorkIsHandedOverOncePerTargetInOrderWhenTheScopeEnds) {
  Flushed flushed;
  std::vector<std::string> ran;
  g_flushed = &flushed;
  g_ran = &ran;
  int one = 1, two = 2;
  {
    CompletionBatch batch;
    for (const char* s : {"a", "b", "c"}) {
      auto fn = Say(std::string("1") + s);
      ASSERT_TRUE(CompletionBatch::Defer(&one, &Record, fn));
      auto other = Say(std::string("2") + s);
      ASSERT_TRUE(CompletionBatch::Defer(&two, &Record, other));
    }
    {
      CompletionBatch inner;  // joins the outer scope
      auto fn = Say("1d");
      ASSERT_TRUE(CompletionBatch::Defer(&one, &Record, fn));
    }
    EXPECT_TRUE(ran.empty()) << "nothing runs before the outer scope ends";
  }
  ASSERT_EQ(flushed.calls.size(), 2u);
  EXPECT_EQ(flushed.calls[0].first, 1);
  EXPECT_EQ(flushed.calls[0].second, (std::vector<std::string>{"1a", "1b", "1c", "1d"}));
  EXPECT_EQ(flushed.calls[1].first, 2);
  EXPECT_EQ(flushed.calls[1].second, (std::vector<std::string>{"2a", "2b", "2c"}));
  // The scope is closed: work goes back to the caller again.
  auto after = Say("x");
  EXPECT_FALSE(CompletionBatch::Defer(&one, &Record, after));
}

}  // namespace
}  // namespace mast
