#include "crsp/dht_adapter/keys.h"

#include <bit>
#include <cstdio>

#include "fnv.h"

namespace crsp::dht {

uint32_t PriceBucket(uint32_t price) {
  const int bits = std::bit_width(price);  // 0 for price 0
  if (bits <= kLowPriceBits) return 0;
  if (bits > kHighPriceBits) return kPriceBuckets - 1;
  return static_cast<uint32_t>(bits - kLowPriceBits);
}

uint32_t ShardOf(const protocol::DeviceId& device) {
  return Fnv1a32(device) % kShards;
}

std::string KeyName(uint16_t resource, uint32_t bucket, uint32_t shard) {
  // Written by hand, not with snprintf: the store policy names a device's
  // keys for every value a node stores or reads (snprintf was 2-3 % of a
  // node under registrations, BENCHMARKS.md).
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "crsp/1/0000/p00/s00";
  for (int i = 0; i < 4; ++i) {
    name[7 + i] = kHex[(resource >> (12 - 4 * i)) & 0xF];
  }
  name[13] = static_cast<char>('0' + bucket / 10 % 10);
  name[14] = static_cast<char>('0' + bucket % 10);
  name[17] = static_cast<char>('0' + shard / 10 % 10);
  name[18] = static_cast<char>('0' + shard % 10);
  return name;
}

bool ParseKeyName(const std::string& name, uint16_t* resource, uint32_t* bucket,
                  uint32_t* shard) {
  unsigned r = 0, b = 0, s = 0;
  if (std::sscanf(name.c_str(), "crsp/1/%4x/p%2u/s%2u", &r, &b, &s) != 3) {
    return false;
  }
  if (b >= kPriceBuckets || s >= kShards || KeyName(r, b, s) != name) {
    return false;
  }
  *resource = static_cast<uint16_t>(r);
  *bucket = b;
  *shard = s;
  return true;
}

std::string KeyFor(const protocol::Offer& offer) {
  return KeyName(offer.resource, PriceBucket(offer.price),
                 ShardOf(offer.device));
}

std::vector<std::string> KeysFor(uint16_t resource, uint32_t max_price) {
  const uint32_t last = PriceBucket(max_price);
  std::vector<std::string> keys;
  keys.reserve(size_t{last + 1} * kShards);
  for (uint32_t bucket = 0; bucket <= last; ++bucket) {
    for (uint32_t shard = 0; shard < kShards; ++shard) {
      keys.push_back(KeyName(resource, bucket, shard));
    }
  }
  return keys;
}

std::vector<std::string> KeysOfDevice(uint16_t resource,
                                      const protocol::DeviceId& device) {
  const uint32_t shard = ShardOf(device);
  std::vector<std::string> keys;
  keys.reserve(kPriceBuckets);
  for (uint32_t bucket = 0; bucket < kPriceBuckets; ++bucket) {
    keys.push_back(KeyName(resource, bucket, shard));
  }
  return keys;
}

}  // namespace crsp::dht
