// The DHT key scheme (docs/storage.md): where an offer is stored and which
// keys a query reads. Pure functions of their arguments, so that every node
// of a cluster computes the same keys. A key is named by a string; the
// OpenDHT key is InfoHash::get(name).
//
//   name = "crsp/1/" + resource (4 hex digits) + "/p" + price bucket (2
//          digits) + "/s" + shard (2 digits), e.g. "crsp/1/0001/p07/s33"
//
// Price buckets are octaves of the price, clamped at both ends; the shard
// spreads the devices of one bucket over kShards keys.
#ifndef CRSP_DHT_ADAPTER_KEYS_H_
#define CRSP_DHT_ADAPTER_KEYS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "crsp/protocol/packets.h"

namespace crsp::dht {

// Prices below 2^kLowPriceBits share bucket 0; prices of 2^kHighPriceBits
// and more share the last bucket; each octave in between has its own.
inline constexpr int kLowPriceBits = 4;    // bucket 0: prices 0..15
inline constexpr int kHighPriceBits = 24;  // last bucket: >= 16,777,216
inline constexpr uint32_t kPriceBuckets = kHighPriceBits - kLowPriceBits + 2;
inline constexpr uint32_t kShards = 64;

// The bucket of `price`: 0 .. kPriceBuckets-1, non-decreasing in price.
uint32_t PriceBucket(uint32_t price);
// The shard of a device: FNV-1a 32 of the 16 id bytes, modulo kShards.
uint32_t ShardOf(const protocol::DeviceId& device);

// The name of one key; `bucket` < kPriceBuckets and `shard` < kShards (two
// digits each).
std::string KeyName(uint16_t resource, uint32_t bucket, uint32_t shard);
// The parts of a name KeyName made; false for any other string.
bool ParseKeyName(const std::string& name, uint16_t* resource, uint32_t* bucket,
                  uint32_t* shard);
// Where an offer is stored: its resource, the bucket of its price and the
// shard of its device.
std::string KeyFor(const protocol::Offer& offer);
// Every key a query for `resource` with `max_price` reads: every shard of
// buckets 0 .. PriceBucket(max_price), bucket by bucket, cheapest first.
std::vector<std::string> KeysFor(uint16_t resource, uint32_t max_price);
// Every key an offer of this device and resource may be stored under (one
// per bucket): the store policy accepts offer values only there.
std::vector<std::string> KeysOfDevice(uint16_t resource,
                                      const protocol::DeviceId& device);

}  // namespace crsp::dht

#endif  // CRSP_DHT_ADAPTER_KEYS_H_
