#include "common/status.h"

#include <gtest/gtest.h>

namespace mast {
namespace {

Status FailsWith(StatusCode code) { return Status(code, "because"); }

Status Chain(bool fail) {
  RETURN_IF_ERROR(fail ? FailsWith(StatusCode::kNotFound) : OkStatus());
  return Internal("reached the end");
}

StatusOr<int> MaybeInt(bool fail) {
  if (fail) return InvalidArgument("no int");
  return 7;
}

StatusOr<int> Doubled(bool fail) {
  ASSIGN_OR_RETURN(int v, MaybeInt(fail));
  return v * 2;
}

TEST(StatusTest, CodesMapToHttpStatusesAndWords) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnprocessable), 422);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);
  EXPECT_EQ(StatusCodeName(StatusCode::kNotFound), "not_found");
  EXPECT_EQ(StatusCodeName(StatusCode::kFailedPrecondition), "failed_precondition");
  EXPECT_EQ(NotFound("model 'x'").ToString(), "not_found: model 'x'");
  EXPECT_TRUE(OkStatus().ok());
}

TEST(StatusTest, ReturnIfErrorStopsAtTheFirstError) {
  EXPECT_EQ(Chain(true).code(), StatusCode::kNotFound);
  EXPECT_EQ(Chain(false).code(), StatusCode::kInternal);
}

TEST(StatusTest, AssignOrReturnPropagatesOrAssigns) {
  EXPECT_EQ(*Doubled(false), 14);
  auto failed = Doubled(true);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "no int");
}

}  // namespace
}  // namespace mast
