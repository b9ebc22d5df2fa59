#include "time_spec.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace crsp::cli {
namespace {

constexpr uint64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

uint64_t Parse(const char* text) {
  auto t = ParseTime(text, kNow);
  EXPECT_TRUE(t) << text << ": " << t.status().message();
  return t ? *t : 0;
}

TEST(ParseTime, ReadsRelativeTimes) {
  EXPECT_EQ(Parse("now"), kNow);
  EXPECT_EQ(Parse("+0h"), kNow);
  EXPECT_EQ(Parse("+8h"), kNow + 8 * 3600);
  EXPECT_EQ(Parse("+30m"), kNow + 30 * 60);
  EXPECT_EQ(Parse("+2d"), kNow + 2 * 86400);
  EXPECT_EQ(Parse("+90s"), kNow + 90);
  EXPECT_EQ(Parse("-1h"), kNow - 3600);
}

TEST(ParseTime, ReadsIso8601WithZones) {
  EXPECT_EQ(Parse("2026-01-01T00:00:00Z"), kNow);
  EXPECT_EQ(Parse("2026-01-01T08:00+08:00"), kNow);
  EXPECT_EQ(Parse("2026-01-01T08:00:00+0800"), kNow);
  EXPECT_EQ(Parse("2025-12-31 19:00-05:00"), kNow);
  EXPECT_EQ(Parse("@1767225600"), kNow);
}

TEST(ParseTime, ReadsIso8601WithoutZoneAsLocalTime) {
  const char* old = std::getenv("TZ");
  std::string saved = old ? old : "";
  setenv("TZ", "CST-8", 1);  // POSIX form: no tzdata needed
  tzset();
  EXPECT_EQ(Parse("2026-01-01T08:00"), kNow);
  EXPECT_EQ(Parse("2026-01-01"), kNow - 8 * 3600);
  EXPECT_EQ(FormatLocalTime(kNow), "2026-01-01 08:00");
  if (old) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

TEST(ParseTime, RefusesWhatItCannotRead) {
  for (const char* bad :
       {"", "tomorrow", "+8", "+h", "+8y", "2026-13-01", "2026-01-01T25:00",
        "2026-01-01T08:00+8", "@", "@12x"}) {
    auto t = ParseTime(bad, kNow);
    EXPECT_FALSE(t) << bad;
    if (!t) {
      EXPECT_NE(t.status().message().find("ISO 8601"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace crsp::cli
