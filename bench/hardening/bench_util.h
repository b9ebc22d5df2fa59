// What the hardening benchmarks share: packet builders, the node's resident
// memory, and a node started with given flags.
#ifndef CRSP_BENCH_HARDENING_BENCH_UTIL_H_
#define CRSP_BENCH_HARDENING_BENCH_UTIL_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crsp/protocol/codec.h"
#include "crsp/support/clock.h"
#include "node_process.h"

namespace crsp::bench {

protocol::DeviceId Device(uint8_t n);

// A register of `resources` resources (ids 1..resources) for one device.
protocol::Packet RegisterMany(const protocol::DeviceId& device, int resources,
                              uint32_t txid, wire::CheckType check);
// A query (CRC-32) with one entry per resource id, up to `max_price`.
protocol::Packet QueryOf(const std::vector<uint16_t>& resources, uint32_t txid,
                         uint32_t max_price);
// A query for resources 1..resources up to `max_price`.
protocol::Packet QueryMany(int resources, uint32_t txid,
                           uint32_t max_price = 1000);
protocol::Packet PingPacket(uint32_t txid, wire::CheckType check);

// VmRSS of `pid` in KiB, 0 if unreadable.
uint64_t ResidentKib(pid_t pid);

// Starts `binary` dual stack ("[::]:port", so 127.0.0.1 is another /24
// source than ::1) with `args`; null when it never answers.
std::unique_ptr<testing::NodeProcess> StartBenchNode(
    const std::string& binary, const std::string& state_dir,
    std::vector<std::string> args);

// The node's status for `request`, or kInternal when nothing came back.
wire::Status Ask(testing::UdpClient& client, const protocol::Packet& request,
                 std::chrono::milliseconds timeout = std::chrono::seconds(3));

// Value of `--name VALUE` in argv, or `fallback`.
std::string Flag(int argc, char** argv, const std::string& name,
                 const std::string& fallback);
bool HasFlag(int argc, char** argv, const std::string& name);

}  // namespace crsp::bench

#endif  // CRSP_BENCH_HARDENING_BENCH_UTIL_H_
