// The offers every benchmark registers, and the requests that carry them.
// Offers are a pure function of (tag, device number, resource id), so the
// CRSP and etcd runs store exactly the same data and a query's answer can
// be checked without remembering what was sent.
#ifndef CRSP_BENCH_SUPPORT_WORKLOAD_H_
#define CRSP_BENCH_SUPPORT_WORKLOAD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "crsp/protocol/packets.h"

namespace crsp::bench {

// Private-use resource ids (0x8000 + n): never a real user's.
inline constexpr uint16_t kFirstBenchResource = 0x8B00;

struct Workload {
  uint8_t tag = 1;                  // keeps device ids of runs apart
  std::vector<uint16_t> resources;  // each device offers every one
  uint64_t valid_from = 0;          // seconds since the epoch
  uint64_t valid_until = 0;
};

// `count` resource ids from kFirstBenchResource + first on.
std::vector<uint16_t> BenchResources(size_t count, uint16_t first = 0);
// A Workload whose offers are valid from a minute ago for `hours`.
Workload MakeWorkload(uint8_t tag, std::vector<uint16_t> resources,
                      uint64_t hours = 48);

protocol::DeviceId DeviceFor(uint8_t tag, uint32_t device);
uint32_t PriceFor(uint32_t device, uint16_t resource);
uint32_t QuantityFor(uint32_t device);
// The entry device `device` registers for `resource`.
protocol::ResourceEntry EntryFor(const Workload& w, uint32_t device,
                                 uint16_t resource);

// The stored offer of `device` for `resource` in the wire layout of
// PROTOCOL.md (72 bytes; contact unset, as the node fills it from the
// source address): what the etcd and Redis runs store as the value.
std::string OfferRecord(const Workload& w, uint32_t device, uint16_t resource);
// Big-endian reads and writes of `bytes` bytes (<= 8) in such a record.
void PutBigEndian(std::string& s, uint64_t v, int bytes);
uint64_t GetBigEndian(const std::string& s, size_t at, int bytes);

// A register request (CRC-32) of device `device` with one entry per resource
// id of the workload.
std::vector<std::byte> RegisterBytes(const Workload& w, uint32_t device,
                                     uint32_t txid);
// A query (CRC-32) for one resource id, any unit and price, now.
std::vector<std::byte> QueryBytes(uint16_t resource, uint16_t max_results,
                                  uint32_t txid, uint32_t min_quantity = 0);

}  // namespace crsp::bench

#endif  // CRSP_BENCH_SUPPORT_WORKLOAD_H_
