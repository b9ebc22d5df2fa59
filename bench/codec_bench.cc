// Decode (with check verification) and Encode of each packet kind under each
// check type. Arguments: (packet kind, check type), numbered as in wire.h.
// The figure to watch: BM_Decode/2/5, a register request (2 entries, as in
// the shared vectors) under CRC-32; goal >= 5 M packets/s on one core.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "crsp/protocol/check.h"
#include "crsp/protocol/codec.h"

namespace crsp::protocol {
namespace {

using wire::PacketKind;

const Ed25519Key& BenchKey() {
  static const Ed25519Key key = [] {
    Ed25519Seed seed{};
    for (size_t i = 0; i < seed.size(); ++i) {
      seed[i] = static_cast<uint8_t>(i);
    }
    return *Ed25519Key::FromSeed(seed);
  }();
  return key;
}

// Typical packets: the register request of the vectors, a query with two
// entries, a full page of offers (15) in the query answer.
Packet SamplePacket(PacketKind kind, wire::CheckType check) {
  Packet p;
  p.header = HeaderFor(kind, 0x01020304, check);
  DeviceId device = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                     0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  switch (kind) {
    case PacketKind::kPingRequest:
      p.body = PingRequest{};
      break;
    case PacketKind::kPingAnswer:
      p.body = PingAnswer{{1, 2, 3}, 1000, 12, 3600, BenchKey().public_key()};
      break;
    case PacketKind::kRegisterRequest:
      p.body = RegisterRequest{
          {device, 1, 156, {}, 0},
          {{wire::kResourceCpu, 1, 8, 250, 1767225600, 1767312000},
           {wire::kResourceMemory, 3, 16384, 12, 1767225600, 1767312000}}};
      break;
    case PacketKind::kRegisterAnswer:
      p.body =
          RegisterAnswer{{device,
                          {{wire::kResourceCpu, wire::Status::kOk, 3},
                           {wire::kResourceMemory, wire::Status::kOk, 3}}}};
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
      QueryAnswer a{15, 0, {}};
      Offer o;
      o.device = device;
      o.contact_port = wire::kDefaultEdgePort;
      o.device_kind = 1;
      o.currency = 156;
      o.resource = wire::kResourceCpu;
      o.unit = 1;
      o.quantity = 8;
      o.price = 250;
      o.valid_from = 1767225600;
      o.valid_until = 1767312000;
      a.offers.assign(wire::kMaxOffersPerAnswer, o);
      p.body = a;
      break;
    }
  }
  return p;
}

void BM_Decode(benchmark::State& state) {
  auto kind = static_cast<PacketKind>(state.range(0));
  auto check = static_cast<wire::CheckType>(state.range(1));
  std::vector<std::byte> bytes = Encode(SamplePacket(kind, check), &BenchKey());
  if (Decode(bytes).status != wire::Status::kOk) {
    state.SkipWithError("sample does not decode");
    return;
  }
  for (auto _ : state) {
    DecodeResult r = Decode(bytes);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t(bytes.size()));
}

void BM_Encode(benchmark::State& state) {
  auto kind = static_cast<PacketKind>(state.range(0));
  auto check = static_cast<wire::CheckType>(state.range(1));
  Packet packet = SamplePacket(kind, check);
  size_t size = Encode(packet, &BenchKey()).size();
  for (auto _ : state) {
    std::vector<std::byte> bytes = Encode(packet, &BenchKey());
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t(size));
}

void AllKindsAndChecks(benchmark::internal::Benchmark* b) {
  b->ArgNames({"kind", "check"});
  for (int kind = 0; kind <= 7; ++kind) {
    for (int check = 0; check <= wire::kMaxKnownCheckType; ++check) {
      b->Args({kind, check});
    }
  }
}

BENCHMARK(BM_Decode)->Apply(AllKindsAndChecks);
BENCHMARK(BM_Encode)->Apply(AllKindsAndChecks);

}  // namespace
}  // namespace crsp::protocol

namespace crsp::protocol {
namespace {

// The check functions alone over a register request's covered bytes (120).
void BM_Check(benchmark::State& state) {
  auto check = static_cast<wire::CheckType>(state.range(0));
  std::vector<std::byte> covered(120, std::byte{0x5A});
  std::vector<std::byte> trailer = covered;
  AppendCheck(check, trailer, &BenchKey());
  std::span<const std::byte> t = std::span(trailer).subspan(covered.size());
  for (auto _ : state) {
    benchmark::DoNotOptimize(VerifyCheck(check, covered, t));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Check)->ArgName("check")->DenseRange(0, 7);

}  // namespace
}  // namespace crsp::protocol
