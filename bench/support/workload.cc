#include "workload.h"

#include "crsp/protocol/codec.h"
#include "crsp/support/clock.h"
#include "net.h"

namespace crsp::bench {

std::vector<uint16_t> BenchResources(size_t count, uint16_t first) {
  std::vector<uint16_t> ids;
  ids.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    ids.push_back(static_cast<uint16_t>(kFirstBenchResource + first + i));
  }
  return ids;
}

Workload MakeWorkload(uint8_t tag, std::vector<uint16_t> resources,
                      uint64_t hours) {
  Workload w;
  w.tag = tag;
  w.resources = std::move(resources);
  w.valid_from = support::UnixSeconds() - 60;
  w.valid_until = support::UnixSeconds() + hours * 3600;
  return w;
}

protocol::DeviceId DeviceFor(uint8_t tag, uint32_t device) {
  protocol::DeviceId id{};
  id[0] = 0xBE;
  id[1] = tag;
  for (int i = 0; i < 4; ++i) {
    id[2 + i] = static_cast<uint8_t>(device >> (24 - 8 * i));
  }
  // The rest varies too, so ids do not share long prefixes.
  uint32_t mix = device * 2654435761U;
  for (int i = 0; i < 4; ++i) id[12 + i] = static_cast<uint8_t>(mix >> (8 * i));
  return id;
}

uint32_t PriceFor(uint32_t device, uint16_t resource) {
  return 100 + (device * 7919U + resource * 31U) % 100000U;
}

uint32_t QuantityFor(uint32_t device) { return 1 + device % 64; }

protocol::ResourceEntry EntryFor(const Workload& w, uint32_t device,
                                 uint16_t resource) {
  protocol::ResourceEntry e;
  e.resource = resource;
  e.unit = static_cast<uint8_t>(wire::BillingUnit::kPerHour);
  e.quantity = QuantityFor(device);
  e.price = PriceFor(device, resource);
  e.valid_from = w.valid_from;
  e.valid_until = w.valid_until;
  return e;
}

void PutBigEndian(std::string& s, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) s.push_back(char(v >> (8 * i)));
}

uint64_t GetBigEndian(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | uint8_t(s[at + i]);
  return v;
}

std::string OfferRecord(const Workload& w, uint32_t device, uint16_t resource) {
  auto e = EntryFor(w, device, resource);
  auto id = DeviceFor(w.tag, device);
  std::string s(id.begin(), id.end());
  s.append(16, '\0');       // contact address
  PutBigEndian(s, 0, 2);    // contact port
  PutBigEndian(s, 1, 2);    // device kind
  PutBigEndian(s, 978, 2);  // currency
  PutBigEndian(s, resource, 2);
  s.push_back(char(e.unit));
  s.push_back(0);
  PutBigEndian(s, 0, 2);
  PutBigEndian(s, e.quantity, 4);
  PutBigEndian(s, e.price, 4);
  PutBigEndian(s, 0, 4);
  PutBigEndian(s, e.valid_from, 8);
  PutBigEndian(s, e.valid_until, 8);
  return s;
}

std::vector<std::byte> RegisterBytes(const Workload& w, uint32_t device,
                                     uint32_t txid) {
  protocol::RegisterRequest body;
  body.set.device = DeviceFor(w.tag, device);
  body.set.device_kind = static_cast<uint16_t>(wire::DeviceKind::kComputer);
  body.set.currency = 978;
  for (uint16_t r : w.resources) body.entries.push_back(EntryFor(w, device, r));
  protocol::Packet p{protocol::HeaderFor(wire::PacketKind::kRegisterRequest,
                                         txid, wire::CheckType::kCrc32),
                     std::move(body)};
  return protocol::Encode(p);
}

std::vector<std::byte> QueryBytes(uint16_t resource, uint16_t max_results,
                                  uint32_t txid, uint32_t min_quantity) {
  protocol::QueryRequest body;
  body.max_results = max_results;
  protocol::QueryEntry entry;
  entry.resource = resource;
  entry.min_quantity = min_quantity;
  body.entries.push_back(entry);
  protocol::Packet p{protocol::HeaderFor(wire::PacketKind::kQueryRequest, txid,
                                         wire::CheckType::kCrc32),
                     std::move(body)};
  return protocol::Encode(p);
}

}  // namespace crsp::bench
