// PeerBook: who IsPeer counts as a DHT peer (an address heard lately), for
// how long, and how many.
#include "peer_book.h"

#include <gtest/gtest.h>

namespace crsp::dht::internal {
namespace {

using namespace std::chrono_literals;
using Clock = PeerBook::Clock;

protocol::Ipv6Address Address(uint8_t last) {
  protocol::Ipv6Address a{};
  a[0] = 0xfd;
  a[15] = last;
  return a;
}

TEST(PeerBook, KnowsAnAddressHeardAndNoOther) {
  PeerBook book(16, 10min);
  const Clock::time_point t0 = Clock::now();
  EXPECT_FALSE(book.Knows(Address(1), t0));
  book.Heard(Address(1), t0);
  EXPECT_TRUE(book.Knows(Address(1), t0));
  EXPECT_FALSE(book.Knows(Address(2), t0));
}

// Known for one to two generations after its last packet.
TEST(PeerBook, ForgetsAnAddressTwoGenerationsAfterItWasLastHeard) {
  PeerBook book(16, 10min);
  const Clock::time_point t0 = Clock::now();
  book.Heard(Address(1), t0);
  book.Heard(Address(2), t0);
  book.Heard(Address(2), t0 + 11min);  // heard again in the next generation
  EXPECT_TRUE(book.Knows(Address(1), t0 + 19min));
  EXPECT_TRUE(book.Knows(Address(2), t0 + 19min));
  EXPECT_FALSE(book.Knows(Address(1), t0 + 22min));
  EXPECT_TRUE(book.Knows(Address(2), t0 + 22min));
  EXPECT_FALSE(book.Knows(Address(2), t0 + 45min));  // silent since
}

// A flood of made-up sources fills one generation at most; peers heard
// before stay known.
TEST(PeerBook, AFullGenerationTakesNoMoreAndKeepsThePreviousOne) {
  PeerBook book(4, 10min);
  const Clock::time_point t0 = Clock::now();
  book.Heard(Address(1), t0);
  for (uint8_t i = 100; i < 120; ++i) book.Heard(Address(i), t0 + 11min);
  EXPECT_TRUE(book.Knows(Address(1), t0 + 12min));  // previous generation
  EXPECT_TRUE(book.Knows(Address(100), t0 + 12min));
  EXPECT_FALSE(book.Knows(Address(119), t0 + 12min));  // over capacity
}

TEST(PeerBook, ClearForgetsEveryone) {
  PeerBook book(16, 10min);
  const Clock::time_point t0 = Clock::now();
  book.Heard(Address(1), t0);
  book.Clear();
  EXPECT_FALSE(book.Knows(Address(1), t0));
}

}  // namespace
}  // namespace crsp::dht::internal
