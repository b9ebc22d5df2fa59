#include "price.h"

#include <gtest/gtest.h>

namespace crsp::cli {
namespace {

TEST(ParsePrice, ReadsMajorUnitsAndBillingUnit) {
  auto p = ParsePrice("0.10/page", 2);
  ASSERT_TRUE(p) << p.status().message();
  EXPECT_EQ(p->minor, 10u);
  EXPECT_EQ(p->unit, wire::BillingUnit::kPerPage);
  p = ParsePrice("2.50/hour", 2);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->minor, 250u);
  EXPECT_EQ(p->unit, wire::BillingUnit::kPerHour);
  p = ParsePrice("0.12/gib-hour", 2);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->unit, wire::BillingUnit::kPerGibHour);
}

TEST(ParsePrice, PadsMissingDecimalsAndAllowsNoUnit) {
  auto p = ParsePrice("3", 2);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->minor, 300u);
  EXPECT_FALSE(p->unit.has_value());
  p = ParsePrice("0.5", 2);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->minor, 50u);
}

TEST(ParsePrice, UsesTheCurrencysMinorDigits) {
  auto yen = ParsePrice("100/use", 0);
  ASSERT_TRUE(yen);
  EXPECT_EQ(yen->minor, 100u);
  auto cents = ParsePrice("0.10/use", 0);
  EXPECT_FALSE(cents);
  EXPECT_NE(cents.status().message().find("decimal"), std::string::npos);
}

TEST(ParsePrice, RefusesGarbageUnknownUnitsAndOverflow) {
  EXPECT_FALSE(ParsePrice("abc", 2));
  EXPECT_FALSE(ParsePrice("", 2));
  EXPECT_FALSE(ParsePrice("1.234", 2));
  EXPECT_FALSE(ParsePrice("1.2.3", 2));
  auto parsec = ParsePrice("0.10/parsec", 2);
  EXPECT_FALSE(parsec);
  EXPECT_NE(parsec.status().message().find("parsec"), std::string::npos);
  EXPECT_FALSE(ParsePrice("42949673", 2));  // 4294967300 minor
  auto max = ParsePrice("42949672.95", 2);
  ASSERT_TRUE(max);
  EXPECT_EQ(max->minor, 4294967295u);
}

TEST(FormatAmount, WritesMinorUnitsAsMajorText) {
  EXPECT_EQ(FormatAmount(10, 2), "0.10");
  EXPECT_EQ(FormatAmount(250, 2), "2.50");
  EXPECT_EQ(FormatAmount(5, 2), "0.05");
  EXPECT_EQ(FormatAmount(500, 0), "500");
}

}  // namespace
}  // namespace crsp::cli
