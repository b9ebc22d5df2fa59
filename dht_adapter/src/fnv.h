// FNV-1a: a tiny, fixed, well-known hash, so that shards and value ids are
// the same on every node, build and platform (std::hash is not).
#ifndef CRSP_DHT_ADAPTER_SRC_FNV_H_
#define CRSP_DHT_ADAPTER_SRC_FNV_H_

#include <cstdint>
#include <span>

namespace crsp::dht {

inline uint32_t Fnv1a32(std::span<const uint8_t> bytes,
                        uint32_t hash = 2166136261u) {
  for (uint8_t b : bytes) {
    hash ^= b;
    hash *= 16777619u;
  }
  return hash;
}

inline uint64_t Fnv1a64(std::span<const uint8_t> bytes,
                        uint64_t hash = 14695981039346656037ull) {
  for (uint8_t b : bytes) {
    hash ^= b;
    hash *= 1099511628211ull;
  }
  return hash;
}

}  // namespace crsp::dht

#endif  // CRSP_DHT_ADAPTER_SRC_FNV_H_
