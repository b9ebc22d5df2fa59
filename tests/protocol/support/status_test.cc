// crsp/support/status.h, clock.h and version.h.
#include "crsp/support/status.h"

#include <gtest/gtest.h>

#include "crsp/support/clock.h"
#include "crsp/support/version.h"

namespace crsp::support {
namespace {

TEST(Status, DefaultIsOkAndErrorsKeepCodeAndMessage) {
  EXPECT_TRUE(Status().ok());
  Status s = Status::IoError("key.pem: No such file or directory");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kIoError);
  EXPECT_EQ(s.WithContext("--key").message(),
            "--key: key.pem: No such file or directory");
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

TEST(Status, ResultHoldsAValueOrItsError) {
  Result<int> good = 7;
  ASSERT_TRUE(good);
  EXPECT_EQ(*good, 7);
  EXPECT_TRUE(good.status().ok());
  Result<int> bad = Status::InvalidArgument("no");
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "no");
}

// The exit codes docs/cli.md documents; crsp and crsp-node both map
// through this.
TEST(Status, ExitCodesAreTheDocumentedOnes) {
  EXPECT_EQ(ExitCodeOf(Status::Ok()), 0);
  EXPECT_EQ(ExitCodeOf(Status::IoError("")), 1);
  EXPECT_EQ(ExitCodeOf(Status::Corruption("")), 2);
  EXPECT_EQ(ExitCodeOf(Status::InvalidArgument("")), 64);
  EXPECT_EQ(ExitCodeOf(Status::Refused("")), 65);
  EXPECT_EQ(ExitCodeOf(Status::Unavailable("")), 69);
  EXPECT_EQ(ExitCodeOf(Status::Incomplete("")), 75);
}

TEST(Clock, UnixSecondsIsNowSince1970) {
  const uint64_t now = UnixSeconds();
  EXPECT_GT(now, 1767225600u);  // after 2026-01-01
  EXPECT_LT(now, 4102444800u);  // before 2100-01-01
}

TEST(Version, LineNamesProgramVersionAndCommit) {
  EXPECT_FALSE(ProjectVersion().empty());
  EXPECT_FALSE(GitCommit().empty());
  EXPECT_EQ(VersionLine("crsp"), "crsp " + std::string(ProjectVersion()) +
                                     " (git " + std::string(GitCommit()) + ")");
}

}  // namespace
}  // namespace crsp::support
