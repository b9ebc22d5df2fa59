#include "packet_builder.h"

#include <algorithm>

#include "crsp/protocol/check.h"
#include "crsp/protocol/codec.h"

namespace crsp::protocol::testing {
namespace {

using wire::PacketKind;

template <size_t N>
std::array<uint8_t, N> RandomBytes(std::mt19937_64& rng) {
  std::array<uint8_t, N> out;
  for (uint8_t& b : out) {
    b = static_cast<uint8_t>(rng());
  }
  return out;
}

template <typename T>
T Uniform(std::mt19937_64& rng, T lo, T hi) {
  return static_cast<T>(std::uniform_int_distribution<uint64_t>(lo, hi)(rng));
}

uint16_t RandomResource(std::mt19937_64& rng) {
  return rng() % 2
             ? Uniform<uint16_t>(rng, wire::kResourceCpu,
                                 wire::kLastStandardResource)
             : Uniform<uint16_t>(rng, wire::kFirstPrivateResource, 0xFFFF);
}

uint16_t RandomDeviceKind(std::mt19937_64& rng) {
  uint16_t k = Uniform<uint16_t>(rng, 1, 5);
  return k == 5 ? uint16_t{0xFFFF} : k;
}

ResourceEntry RandomEntry(std::mt19937_64& rng) {
  ResourceEntry e;
  e.resource = RandomResource(rng);
  e.unit = Uniform<uint8_t>(rng, 0, wire::kMaxBillingUnit);
  e.quantity = Uniform<uint32_t>(rng, 1, UINT32_MAX);
  e.price = static_cast<uint32_t>(rng());
  e.valid_from = Uniform<uint64_t>(rng, 0, UINT64_MAX - 1);
  e.valid_until = Uniform<uint64_t>(rng, e.valid_from + 1, UINT64_MAX);
  return e;
}

EntryResults RandomResults(std::mt19937_64& rng) {
  EntryResults r;
  r.device = RandomBytes<wire::kDeviceIdSize>(rng);
  size_t n = Uniform<size_t>(rng, 0, 64);
  for (size_t i = 0; i < n; ++i) {
    r.entries.push_back(
        {static_cast<uint16_t>(rng()),
         static_cast<wire::Status>(Uniform<uint8_t>(rng, 0, 255)),
         static_cast<uint16_t>(rng())});
  }
  return r;
}

Body RandomBody(PacketKind kind, std::mt19937_64& rng) {
  switch (kind) {
    case PacketKind::kPingRequest:
      return PingRequest{};
    case PacketKind::kPingAnswer:
      return PingAnswer{
          RandomBytes<wire::kNodeIdSize>(rng), static_cast<uint32_t>(rng()),
          static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng()),
          RandomBytes<wire::kEd25519PublicKeySize>(rng)};
    case PacketKind::kRegisterRequest: {
      RegisterRequest r;
      r.set.device = RandomBytes<wire::kDeviceIdSize>(rng);
      r.set.device_kind = RandomDeviceKind(rng);
      r.set.currency = static_cast<uint16_t>(rng());
      r.set.contact = RandomBytes<wire::kIpv6Size>(rng);
      r.set.contact_port = static_cast<uint16_t>(rng());
      size_t n = Uniform<size_t>(rng, 1, wire::kMaxRegisterEntries);
      for (size_t i = 0; i < n; ++i) {
        r.entries.push_back(RandomEntry(rng));
      }
      return r;
    }
    case PacketKind::kRegisterAnswer:
      return RegisterAnswer{RandomResults(rng)};
    case PacketKind::kWithdrawRequest: {
      WithdrawRequest w;
      w.device = RandomBytes<wire::kDeviceIdSize>(rng);
      size_t n = Uniform<size_t>(rng, 0, wire::kMaxWithdrawIds);
      for (size_t i = 0; i < n; ++i) {
        w.resources.push_back(RandomResource(rng));
      }
      return w;
    }
    case PacketKind::kWithdrawAnswer:
      return WithdrawAnswer{RandomResults(rng)};
    case PacketKind::kQueryRequest: {
      QueryRequest q;
      q.wanted_from = rng() % 4 == 0 ? 0 : Uniform<uint64_t>(rng, 1, 1u << 31);
      q.wanted_until = rng() % 4 == 0 ? 0
                                      : Uniform<uint64_t>(
                                            rng, q.wanted_from + 1, UINT64_MAX);
      q.currency = static_cast<uint16_t>(rng());
      q.max_results = static_cast<uint16_t>(rng());
      q.cursor = static_cast<uint32_t>(rng());
      size_t n = Uniform<size_t>(rng, 1, wire::kMaxQueryEntries);
      for (size_t i = 0; i < n; ++i) {
        QueryEntry e;
        e.resource = RandomResource(rng);
        e.unit = rng() % 3 == 0
                     ? wire::kAnyBillingUnit
                     : Uniform<uint8_t>(rng, 0, wire::kMaxBillingUnit);
        e.max_price = static_cast<uint32_t>(rng());
        e.min_quantity = static_cast<uint32_t>(rng());
        q.entries.push_back(e);
      }
      return q;
    }
    case PacketKind::kQueryAnswer: {
      QueryAnswer a;
      a.total = static_cast<uint32_t>(rng());
      a.next_cursor = static_cast<uint32_t>(rng());
      size_t n = Uniform<size_t>(rng, 0, wire::kMaxOffersPerAnswer);
      for (size_t i = 0; i < n; ++i) {
        Offer o;
        o.device = RandomBytes<wire::kDeviceIdSize>(rng);
        o.contact = RandomBytes<wire::kIpv6Size>(rng);
        o.contact_port = static_cast<uint16_t>(rng());
        o.device_kind = static_cast<uint16_t>(rng());
        o.currency = static_cast<uint16_t>(rng());
        o.resource = static_cast<uint16_t>(rng());
        o.unit = static_cast<uint8_t>(rng());
        o.flags = static_cast<uint8_t>(rng());
        o.quantity = static_cast<uint32_t>(rng());
        o.price = static_cast<uint32_t>(rng());
        o.valid_from = rng();
        o.valid_until = rng();
        a.offers.push_back(o);
      }
      return a;
    }
  }
  return std::monostate{};
}

}  // namespace

const Ed25519Key& TestKey() {
  static const Ed25519Key key = [] {
    Ed25519Seed seed;
    for (size_t i = 0; i < seed.size(); ++i) {
      seed[i] = static_cast<uint8_t>(i);
    }
    return *Ed25519Key::FromSeed(seed);
  }();
  return key;
}

Packet SamplePacket(wire::PacketKind kind, wire::CheckType check) {
  Packet p;
  p.header = HeaderFor(kind, 0x01020304, check);
  DeviceId device = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                     0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  switch (kind) {
    case PacketKind::kPingRequest:
      p.body = PingRequest{};
      break;
    case PacketKind::kPingAnswer:
      p.body = PingAnswer{{1, 2, 3}, 10, 4, 3600, TestKey().public_key()};
      break;
    case PacketKind::kRegisterRequest: {
      RegisterRequest r;
      r.set = {device, 1, 156, {}, 0};
      r.entries.push_back(
          {wire::kResourceCpu, 1, 8, 250, 1767225600, 1767312000});
      r.entries.push_back(
          {wire::kResourceMemory, 3, 16384, 12, 1767225600, 1767312000});
      p.body = r;
      break;
    }
    case PacketKind::kRegisterAnswer:
      p.body = RegisterAnswer{
          {device,
           {{wire::kResourceCpu, wire::Status::kOk, 3},
            {wire::kResourceMemory, wire::Status::kInvalidField, 0}}}};
      break;
    case PacketKind::kWithdrawRequest:
      p.body = WithdrawRequest{device, {wire::kResourceCpu}};
      break;
    case PacketKind::kWithdrawAnswer:
      p.body = WithdrawAnswer{
          {device, {{wire::kResourceCpu, wire::Status::kOk, 3}}}};
      break;
    case PacketKind::kQueryRequest:
      p.body =
          QueryRequest{1767225600,
                       0,
                       156,
                       10,
                       0,
                       {{wire::kResourceCpu, wire::kAnyBillingUnit, 300, 4},
                        {wire::kResourcePrint, 2, wire::kAnyPrice, 0}}};
      break;
    case PacketKind::kQueryAnswer: {
      QueryAnswer a{1, 0, {}};
      Offer o;
      o.device = device;
      o.contact = {0x20, 0x01, 0x0d, 0xb8};
      o.contact[15] = 1;
      o.contact_port = wire::kDefaultEdgePort;
      o.device_kind = 1;
      o.currency = 156;
      o.resource = wire::kResourceCpu;
      o.unit = 1;
      o.flags = wire::kOfferFlagSigned;
      o.quantity = 8;
      o.price = 250;
      o.valid_from = 1767225600;
      o.valid_until = 1767312000;
      a.offers.push_back(o);
      p.body = a;
      break;
    }
  }
  return p;
}

Packet RandomPacket(wire::PacketKind kind, wire::CheckType check,
                    std::mt19937_64& rng) {
  Packet p;
  p.header = HeaderFor(kind, static_cast<uint32_t>(rng()), check);
  p.body = RandomBody(kind, rng);
  // Requests carry status 0; answers any status.
  if (static_cast<uint8_t>(kind) % 2 == 1) {
    p.header.status = static_cast<wire::Status>(Uniform<uint8_t>(rng, 0, 11));
  }
  return p;
}

std::vector<std::byte> EncodeForTest(const Packet& packet) {
  return Encode(packet, &TestKey());
}

void PutU16(std::vector<std::byte>& bytes, size_t offset, uint16_t v) {
  bytes.at(offset) = static_cast<std::byte>(v >> 8);
  bytes.at(offset + 1) = static_cast<std::byte>(v);
}

void Reseal(std::vector<std::byte>& bytes) {
  auto check = static_cast<wire::CheckType>(
      static_cast<uint8_t>(bytes.at(wire::kOffCheckType)) &
      wire::kCheckTypeMask);
  size_t trailer = TrailerSize(check);
  bytes.resize(bytes.size() - std::min(trailer, bytes.size()));
  PutU16(bytes, wire::kOffTotalLength,
         static_cast<uint16_t>(bytes.size() + trailer));
  AppendCheck(check, bytes, &TestKey());
}

}  // namespace crsp::protocol::testing
