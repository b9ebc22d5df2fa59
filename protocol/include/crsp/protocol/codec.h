// Encoding and decoding of whole CRSP v1 packets.
//
// Decode never throws and never reads outside its input. It checks, in this
// order (docs/protocol.md has the reasons):
//   1. length: >= 12 bytes to read the txid (else no answer); >= 16 for a
//      header; version 1 (else UNSUPPORTED_VERSION); total length equals
//      the datagram length; check type high bits zero; check type known
//      (else UNSUPPORTED_CHECK); header length >= 16 and room for the
//      trailer (else MALFORMED);
//   2. check bits (BAD_CHECK);
//   3. known (protocol, type), then body layout and item counts (MALFORMED,
//      TOO_LARGE, INVALID_FIELD), then fields that need no clock
//      (INVALID_FIELD).
// Validation that needs the clock is separate: see ValidateEntryAt.
#ifndef CRSP_PROTOCOL_CODEC_H_
#define CRSP_PROTOCOL_CODEC_H_

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "crsp/protocol/ed25519.h"
#include "crsp/protocol/packets.h"
#include "crsp/protocol/wire.h"

namespace crsp::protocol {

// Per-packet limits a receiver enforces. The defaults are the spec's; a node
// may accept fewer items (then TOO_LARGE).
struct DecodeLimits {
  uint16_t max_register_entries = wire::kMaxRegisterEntries;
  uint16_t max_withdraw_ids = wire::kMaxWithdrawIds;
  uint16_t max_query_entries = wire::kMaxQueryEntries;
};

struct DecodeResult {
  // kOk when the packet parsed, its check held and every field is valid.
  // kInvalidField with `packet.body` set only when the faults are inside
  // register entries (ValidateEntry tells which; the node answers per
  // entry); any other INVALID_FIELD carries no body (answer ErrorAnswer).
  wire::Status status = wire::Status::kMalformed;
  // A short static description of the first failure ("" when kOk).
  std::string_view detail;
  // False when no answer may be sent: fewer than 12 bytes, or the packet is
  // itself an answer (even packet type).
  bool answerable = false;
  // Header fields as far as they could be read; body set when the status
  // is kOk, or kInvalidField from register entries (above).
  Packet packet;
  // Check type 7: the key in the trailer, set once the signature verified.
  std::optional<PublicKey> signer;
  // True when the check trailer was verified (also for check type 0).
  bool check_ok = false;
};

DecodeResult Decode(std::span<const std::byte> datagram,
                    const DecodeLimits& limits = {});

// Bytes of `packet`. Version, header length, total length and item count are
// computed; protocol and type come from the body's kind (or, for an empty
// error answer, from packet.header). Returns empty when check is kEd25519 and
// `signer` is null or signing fails.
std::vector<std::byte> Encode(const Packet& packet,
                              const Ed25519Key* signer = nullptr);

// The answer header for a request header: same protocol, type + 1, same
// txid and check type (check type 0 when the request's is reserved).
Header AnswerHeaderFor(const Header& request, wire::Status status);

// An answer with `status`, empty body and item count 0, to a request whose
// header is `request` (as far as Decode read it).
Packet ErrorAnswer(const Header& request, wire::Status status);

// Field validity of one register entry without a clock: known resource id
// and billing unit, quantity >= 1, valid_until > valid_from.
wire::Status ValidateEntry(const ResourceEntry& entry);
// ValidateEntry plus the clock: valid_until must be after `now` (seconds
// since the epoch).
wire::Status ValidateEntryAt(const ResourceEntry& entry, uint64_t now);

}  // namespace crsp::protocol

#endif  // CRSP_PROTOCOL_CODEC_H_
