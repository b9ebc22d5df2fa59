// LocalValues: weak references to the values OpenDHT stores, by key and
// value id, that never keep a value alive, and its bound.
#include "local_values.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace crsp::dht::internal {
namespace {

std::shared_ptr<::dht::Value> ValueWithId(uint64_t id) {
  auto v = std::make_shared<::dht::Value>(::dht::Blob{1, 2, 3});
  v->id = id;
  return v;
}

TEST(LocalValues, FindsAValueByItsKeyAndIdOnly) {
  LocalValues local;
  const auto key = ::dht::InfoHash::get("a");
  const auto other = ::dht::InfoHash::get("b");
  auto v = ValueWithId(7);
  local.Remember(key, v);
  EXPECT_EQ(local.Find(key, 7), v);
  EXPECT_EQ(local.Find(key, 8), nullptr);
  EXPECT_EQ(local.Find(other, 7), nullptr);
}

// OpenDHT dropped it (expired, replaced): absent, and pruned.
TEST(LocalValues, AValueNobodyHoldsIsAbsentAndPruned) {
  LocalValues local;
  const auto key = ::dht::InfoHash::get("a");
  auto kept = ValueWithId(1);
  local.Remember(key, kept);
  local.Remember(key, ValueWithId(2));  // held by nobody
  EXPECT_EQ(local.Find(key, 2), nullptr);
  EXPECT_EQ(local.size(), 2u);
  local.Prune();
  EXPECT_EQ(local.size(), 1u);
  EXPECT_EQ(local.Find(key, 1), kept);
}

// An edit stores a new object under the same id: that one is found.
TEST(LocalValues, TheLatestValueRememberedUnderAnIdIsFound) {
  LocalValues local;
  const auto key = ::dht::InfoHash::get("a");
  auto first = ValueWithId(5);
  auto edit = ValueWithId(5);
  local.Remember(key, first);
  local.Remember(key, edit);
  EXPECT_EQ(local.Find(key, 5), edit);
  EXPECT_EQ(local.size(), 1u);
}

// At the bound, dead entries make room; live ones are never dropped, and a
// new value then is not remembered (its key's read asks the network).
TEST(LocalValues, AtItsBoundDropsDeadEntriesAndNoLiveOne) {
  LocalValues local;
  const auto key = ::dht::InfoHash::get("a");
  std::vector<std::shared_ptr<::dht::Value>> held;
  for (uint64_t id = 1; id <= LocalValues::kMaxValues; ++id) {
    auto v = ValueWithId(id);
    if (id % 2 == 0) held.push_back(v);
    local.Remember(key, v);
  }
  EXPECT_EQ(local.size(), LocalValues::kMaxValues);
  auto next = ValueWithId(LocalValues::kMaxValues + 1);
  local.Remember(key, next);  // prunes the odd ids, then fits
  EXPECT_EQ(local.size(), LocalValues::kMaxValues / 2 + 1);
  EXPECT_EQ(local.Find(key, LocalValues::kMaxValues + 1), next);
  EXPECT_EQ(local.Find(key, 2), held.front());

  for (uint64_t id = LocalValues::kMaxValues + 2;
       local.size() < LocalValues::kMaxValues; ++id) {
    auto v = ValueWithId(id);
    held.push_back(v);
    local.Remember(key, v);
  }
  auto refused = ValueWithId(1ULL << 40);
  local.Remember(key, refused);
  EXPECT_EQ(local.Find(key, 1ULL << 40), nullptr);
  EXPECT_EQ(local.Find(key, 2), held.front());
}

}  // namespace
}  // namespace crsp::dht::internal
