#include "bench_util.h"

#include <fstream>
#include <sstream>

#include "crsp/support/clock.h"

namespace crsp::bench {

protocol::DeviceId Device(uint8_t n) {
  protocol::DeviceId id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(n + i);
  return id;
}

protocol::Packet RegisterMany(const protocol::DeviceId& device, int resources,
                              uint32_t txid, wire::CheckType check) {
  protocol::RegisterRequest body;
  body.set.device = device;
  body.set.device_kind = static_cast<uint16_t>(wire::DeviceKind::kComputer);
  body.set.currency = 978;
  for (int r = 1; r <= resources; ++r) {
    protocol::ResourceEntry e;
    e.resource = static_cast<uint16_t>(r);
    e.unit = static_cast<uint8_t>(wire::BillingUnit::kPerHour);
    e.quantity = 8;
    e.price = 100 + static_cast<uint32_t>(r);
    e.valid_from = support::UnixSeconds() - 60;
    e.valid_until = support::UnixSeconds() + 3 * 3600;
    body.entries.push_back(e);
  }
  return {protocol::HeaderFor(wire::PacketKind::kRegisterRequest, txid, check),
          std::move(body)};
}

protocol::Packet QueryOf(const std::vector<uint16_t>& resources, uint32_t txid,
                         uint32_t max_price) {
  protocol::QueryRequest body;
  for (const uint16_t resource : resources) {
    protocol::QueryEntry e;
    e.resource = resource;
    e.max_price = max_price;
    body.entries.push_back(e);
  }
  return {protocol::HeaderFor(wire::PacketKind::kQueryRequest, txid,
                              wire::CheckType::kCrc32),
          std::move(body)};
}

protocol::Packet QueryMany(int resources, uint32_t txid, uint32_t max_price) {
  std::vector<uint16_t> ids;
  for (int r = 1; r <= resources; ++r) ids.push_back(static_cast<uint16_t>(r));
  return QueryOf(ids, txid, max_price);
}

protocol::Packet PingPacket(uint32_t txid, wire::CheckType check) {
  return {protocol::HeaderFor(wire::PacketKind::kPingRequest, txid, check),
          protocol::PingRequest{}};
}

uint64_t ResidentKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      uint64_t kib = 0;
      fields >> kib;
      return kib;
    }
  }
  return 0;
}

std::unique_ptr<testing::NodeProcess> StartBenchNode(
    const std::string& binary, const std::string& state_dir,
    std::vector<std::string> args) {
  testing::NodeProcess::Options options;
  options.binary = binary;
  options.state_dir = state_dir;
  options.listen_host = "::";
  options.extra_args = std::move(args);
  return testing::NodeProcess::Start(std::move(options));
}

wire::Status Ask(testing::UdpClient& client, const protocol::Packet& request,
                 std::chrono::milliseconds timeout) {
  auto answer = client.Exchange(protocol::Encode(request), timeout, 3);
  if (!answer) return wire::Status::kInternal;
  return protocol::Decode(*answer).packet.header.status;
}

std::string Flag(int argc, char** argv, const std::string& name,
                 const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}

bool HasFlag(int argc, char** argv, const std::string& name) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i] == name) return true;
  }
  return false;
}

}  // namespace crsp::bench
