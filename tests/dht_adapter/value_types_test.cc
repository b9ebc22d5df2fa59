// The offer value types: a record's type must outlive its remaining
// validity (when any type can), and no expiration may hit OpenDHT's 10 s
// trap.
#include "value_types.h"

#include <gtest/gtest.h>

namespace crsp::dht {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

TEST(ValueTypes, TheSmallestTypeCoveringTheRemainingValidityIsChosen) {
  EXPECT_EQ(TypeForRemaining(seconds(1)).expiration, hours(1));
  EXPECT_EQ(TypeForRemaining(hours(1)).expiration, hours(1));
  EXPECT_EQ(TypeForRemaining(hours(1) + seconds(1)).expiration, hours(6));
  EXPECT_EQ(TypeForRemaining(hours(30)).expiration, hours(24 * 7));
  EXPECT_EQ(TypeForRemaining(hours(24 * 30)).expiration, hours(24 * 30));
  // Longer than any type: the largest, kept alive by re-announcement.
  EXPECT_EQ(TypeForRemaining(hours(24 * 365)).expiration, hours(24 * 30));
}

TEST(ValueTypes, IdsAreDistinctOursAndExpirationsIncreaseFarAboveTenSeconds) {
  for (size_t i = 0; i < kOfferValueTypes.size(); ++i) {
    EXPECT_TRUE(IsOfferType(kOfferValueTypes[i].id));
    EXPECT_GT(kOfferValueTypes[i].expiration, seconds(60));
    if (i > 0) {
      EXPECT_GT(kOfferValueTypes[i].expiration,
                kOfferValueTypes[i - 1].expiration);
      EXPECT_NE(kOfferValueTypes[i].id, kOfferValueTypes[i - 1].id);
    }
  }
  EXPECT_FALSE(IsOfferType(0));  // OpenDHT's USER_DATA
}

}  // namespace
}  // namespace crsp::dht
