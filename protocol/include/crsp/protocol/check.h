// The check trailer of every packet (PROTOCOL.md "Check trailer"): check
// types 0-6 and the Ed25519 signature of type 7. CRC-32 is zlib's, MD5 and
// Ed25519 are GnuTLS's.
#ifndef CRSP_PROTOCOL_CHECK_H_
#define CRSP_PROTOCOL_CHECK_H_

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "crsp/protocol/ed25519.h"
#include "crsp/protocol/wire.h"

namespace crsp::protocol {

// Trailer bytes of a check type; 0 for reserved types 8-15.
size_t TrailerSize(wire::CheckType check);
bool IsKnownCheck(uint8_t check_type);

// Appends the trailer of `check` over every byte of `packet` so far.
// REQUIRES: `signer` is set when check is kEd25519. Returns false (packet
// untouched) when it is missing or signing fails.
bool AppendCheck(wire::CheckType check, std::vector<std::byte>& packet,
                 const Ed25519Key* signer);

// Verifies `trailer` (exactly TrailerSize(check) bytes) against `covered`.
// For kEd25519, `signer_out` (when given) receives the trailer's key once the
// signature verifies.
bool VerifyCheck(wire::CheckType check, std::span<const std::byte> covered,
                 std::span<const std::byte> trailer,
                 PublicKey* signer_out = nullptr);

// The individual checks, exposed for tests and benchmarks.
uint8_t Parity(std::span<const std::byte> data);
uint16_t Sum16(std::span<const std::byte> data);
uint8_t Bcc(std::span<const std::byte> data);
uint8_t Lrc(std::span<const std::byte> data);
uint32_t Crc32(std::span<const std::byte> data);
std::array<uint8_t, 16> Md5(std::span<const std::byte> data);

}  // namespace crsp::protocol

#endif  // CRSP_PROTOCOL_CHECK_H_
