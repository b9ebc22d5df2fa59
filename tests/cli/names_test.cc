#include "names.h"

#include <gtest/gtest.h>

#include "json_writer.h"

namespace crsp::cli {
namespace {

TEST(CurrencyFromCode, KnowsCommonIsoCodesAndTheirDecimals) {
  struct {
    const char* code;
    uint16_t numeric;
    int digits;
  } want[] = {{"CNY", 156, 2}, {"USD", 840, 2}, {"EUR", 978, 2},
              {"GBP", 826, 2}, {"JPY", 392, 0}, {"HKD", 344, 2}};
  for (const auto& w : want) {
    auto c = CurrencyFromCode(w.code);
    ASSERT_TRUE(c) << w.code;
    EXPECT_EQ(c->numeric, w.numeric) << w.code;
    EXPECT_EQ(c->minor_digits, w.digits) << w.code;
  }
  EXPECT_EQ(CurrencyFromCode("cny")->numeric, 156);
  EXPECT_EQ(CurrencyFromCode("156")->code, "CNY");
  EXPECT_FALSE(CurrencyFromCode("XYZ"));
  EXPECT_FALSE(CurrencyFromCode("0"));
}

TEST(ResourceFromName, KnowsEverySpecResourceName) {
  const char* names[] = {"cpu",         "video",     "print",      "memory",
                         "software",    "copy",      "car-rental", "taxi-ride",
                         "sightseeing", "broadcast", "storage",    "bandwidth"};
  for (uint16_t id = 1; id <= 12; ++id) {
    EXPECT_EQ(ResourceFromName(names[id - 1]), id) << names[id - 1];
    EXPECT_EQ(ResourceName(id), names[id - 1]);
  }
  EXPECT_EQ(ResourceFromName("Car_Rental"), 7);
  EXPECT_EQ(ResourceFromName("0x8001"), 0x8001);
  EXPECT_EQ(ResourceName(0x8001), "private-0x8001");
  EXPECT_FALSE(ResourceFromName("0x0d"));
  EXPECT_FALSE(ResourceFromName("gpu"));
}

TEST(CheckFromName, MapsTheCheckFlagValues) {
  EXPECT_EQ(CheckFromName("crc"), wire::CheckType::kCrc32);
  EXPECT_EQ(CheckFromName("md5"), wire::CheckType::kMd5);
  EXPECT_EQ(CheckFromName("sum"), wire::CheckType::kSum);
  EXPECT_EQ(CheckFromName("bcc"), wire::CheckType::kBcc);
  EXPECT_EQ(CheckFromName("lrc"), wire::CheckType::kLrc);
  EXPECT_EQ(CheckFromName("parity"), wire::CheckType::kParity);
  EXPECT_EQ(CheckFromName("none"), wire::CheckType::kNone);
  EXPECT_FALSE(CheckFromName("sha1"));
}

TEST(JsonWriter, EscapesQuotesBackslashesAndControlCharacters) {
  JsonWriter w;
  w.BeginObject();
  w.Field("a\"b", std::string_view("x\\y\n\x01"));
  w.Key("list");
  w.BeginArray();
  w.Uint(1);
  w.Bool(false);
  w.EndArray();
  w.EndObject();
  EXPECT_EQ(w.str(),
            "{\"a\\\"b\": \"x\\\\y\\n\\u0001\", \"list\": [1, false]}");
}

}  // namespace
}  // namespace crsp::cli
