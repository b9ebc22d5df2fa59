// What the packet fuzz targets share (decode_packet, peer_packet): their
// check (fuzz_check.h), the key that re-signs type-7 packets in their round
// trips, and a header comparison that ignores the recomputed lengths.
#ifndef CRSP_TESTS_FUZZ_PACKET_FUZZ_SUPPORT_H_
#define CRSP_TESTS_FUZZ_PACKET_FUZZ_SUPPORT_H_

#include "crsp/protocol/ed25519.h"
#include "crsp/protocol/packets.h"
#include "fuzz_check.h"

namespace crsp::fuzz {

// Type-7 packets are re-signed with this key, so only bodies and headers are
// compared, not the signer.
inline const protocol::Ed25519Key& FuzzKey() {
  static const protocol::Ed25519Key key = [] {
    protocol::Ed25519Seed seed{};
    seed.fill(0x42);
    return *protocol::Ed25519Key::FromSeed(seed);
  }();
  return key;
}

// Equal but for the lengths, which an encoder recomputes.
inline bool SameHeaderButLengths(protocol::Header a, protocol::Header b) {
  a.header_length = b.header_length;
  a.total_length = b.total_length;
  return a == b;
}

}  // namespace crsp::fuzz

#endif  // CRSP_TESTS_FUZZ_PACKET_FUZZ_SUPPORT_H_
