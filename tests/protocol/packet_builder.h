// Test-only packet builders: a valid sample packet of each kind, randomised
// valid packets, and Reseal, which fixes total length and check bits after a
// test edited the bytes (like leveldb's FixChecksum).
#ifndef CRSP_TESTS_PROTOCOL_PACKET_BUILDER_H_
#define CRSP_TESTS_PROTOCOL_PACKET_BUILDER_H_

#include <random>
#include <vector>

#include "crsp/protocol/ed25519.h"
#include "crsp/protocol/packets.h"
#include "crsp/protocol/wire.h"

namespace crsp::protocol::testing {

inline constexpr wire::PacketKind kAllKinds[] = {
    wire::PacketKind::kPingRequest,     wire::PacketKind::kPingAnswer,
    wire::PacketKind::kRegisterRequest, wire::PacketKind::kRegisterAnswer,
    wire::PacketKind::kWithdrawRequest, wire::PacketKind::kWithdrawAnswer,
    wire::PacketKind::kQueryRequest,    wire::PacketKind::kQueryAnswer,
};

// The seed 0x00..0x1f of the register_signed vector.
const Ed25519Key& TestKey();

// A fixed packet of `kind` whose every field is valid.
Packet SamplePacket(wire::PacketKind kind,
                    wire::CheckType check = wire::CheckType::kCrc32);
// A random packet of `kind` whose fields are valid (so Decode says kOk).
Packet RandomPacket(wire::PacketKind kind, wire::CheckType check,
                    std::mt19937_64& rng);

// Encodes `packet` (signing with TestKey for check type 7).
std::vector<std::byte> EncodeForTest(const Packet& packet);

// Rewrites the total length field to the final size and recomputes the
// trailer of the check type in byte 12, after a test edited header or body
// bytes. `bytes` holds a packet whose trailer (of that check type) is last.
void Reseal(std::vector<std::byte>& bytes);

void PutU16(std::vector<std::byte>& bytes, size_t offset, uint16_t v);

}  // namespace crsp::protocol::testing

#endif  // CRSP_TESTS_PROTOCOL_PACKET_BUILDER_H_
