// Typed packets of CRSP protocol v1. One struct per body layout of
// ../shared/PROTOCOL.md; field names follow the spec's field names. These are
// plain values: no wire bytes, no validation. codec.h turns them into bytes
// and back.
#ifndef CRSP_PROTOCOL_PACKETS_H_
#define CRSP_PROTOCOL_PACKETS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "crsp/protocol/wire.h"

namespace crsp::protocol {

using DeviceId = std::array<uint8_t, wire::kDeviceIdSize>;
using Ipv6Address = std::array<uint8_t, wire::kIpv6Size>;
using NodeId = std::array<uint8_t, wire::kNodeIdSize>;
using PublicKey = std::array<uint8_t, wire::kEd25519PublicKeySize>;
using Signature = std::array<uint8_t, wire::kEd25519SignatureSize>;

// The 16-byte header. On encode, version, header_length, total_length and
// item count are computed from the packet; the caller sets the rest.
struct Header {
  uint16_t version = wire::kVersion;
  uint8_t protocol = 0;  // raw byte: decoders may meet unknown protocols
  uint8_t type = 0;      // raw byte, see wire::kType*
  uint16_t header_length = wire::kHeaderSize;
  uint16_t total_length = 0;
  uint32_t txid = 0;
  wire::CheckType check = wire::CheckType::kNone;
  wire::Status status = wire::Status::kOk;
  uint16_t count = 0;

  friend bool operator==(const Header&, const Header&) = default;
};

// --- Control -------------------------------------------------------------------

struct PingRequest {
  friend bool operator==(const PingRequest&, const PingRequest&) = default;
};

struct PingAnswer {
  NodeId node_id{};
  uint32_t offers = 0;
  uint32_t peers = 0;
  uint32_t uptime = 0;  // seconds since the node started
  PublicKey public_key{};

  friend bool operator==(const PingAnswer&, const PingAnswer&) = default;
};

// --- Registration ----------------------------------------------------------------

// The resource set descriptor (40 bytes).
struct ResourceSet {
  DeviceId device{};
  uint16_t device_kind = 0;
  uint16_t currency = 0;
  Ipv6Address contact{};  // all zero: the request's source address
  uint16_t contact_port = 0;  // 0: the request's source port

  friend bool operator==(const ResourceSet&, const ResourceSet&) = default;
};

// One resource entry (32 bytes).
struct ResourceEntry {
  uint16_t resource = 0;
  uint8_t unit = 0;  // wire::BillingUnit as a raw byte (may be unknown)
  uint32_t quantity = 0;
  uint32_t price = 0;
  uint64_t valid_from = 0;
  uint64_t valid_until = 0;

  friend bool operator==(const ResourceEntry&, const ResourceEntry&) = default;
};

struct RegisterRequest {
  ResourceSet set;
  std::vector<ResourceEntry> entries;  // 1..64

  friend bool operator==(const RegisterRequest&,
                         const RegisterRequest&) = default;
};

// One 8-byte per-entry result of a register or withdraw answer.
struct EntryResult {
  uint16_t resource = 0;
  wire::Status status = wire::Status::kOk;
  uint16_t replicas = 0;

  friend bool operator==(const EntryResult&, const EntryResult&) = default;
};

// Register answer and withdraw answer share this body.
struct EntryResults {
  DeviceId device{};
  std::vector<EntryResult> entries;

  friend bool operator==(const EntryResults&, const EntryResults&) = default;
};
struct RegisterAnswer : EntryResults {};
struct WithdrawAnswer : EntryResults {};

struct WithdrawRequest {
  DeviceId device{};
  std::vector<uint16_t> resources;  // empty: every offer of the device

  friend bool operator==(const WithdrawRequest&,
                         const WithdrawRequest&) = default;
};

// --- Inquiry ---------------------------------------------------------------------

struct QueryEntry {
  uint16_t resource = 0;
  uint8_t unit = wire::kAnyBillingUnit;
  uint32_t max_price = wire::kAnyPrice;
  uint32_t min_quantity = 0;

  friend bool operator==(const QueryEntry&, const QueryEntry&) = default;
};

struct QueryRequest {
  uint64_t wanted_from = 0;   // 0: now
  uint64_t wanted_until = 0;  // 0: no end wanted
  uint16_t currency = 0;      // 0: any
  uint16_t max_results = 0;   // 0: as many as fit one answer
  uint32_t cursor = 0;
  std::vector<QueryEntry> entries;  // 1..16

  friend bool operator==(const QueryRequest&, const QueryRequest&) = default;
};

// One offer as a query answer carries it (72 bytes).
struct Offer {
  DeviceId device{};
  Ipv6Address contact{};
  uint16_t contact_port = 0;
  uint16_t device_kind = 0;
  uint16_t currency = 0;
  uint16_t resource = 0;
  uint8_t unit = 0;
  uint8_t flags = 0;  // bit 0: registered signed and verified
  uint32_t quantity = 0;
  uint32_t price = 0;
  uint64_t valid_from = 0;
  uint64_t valid_until = 0;

  friend bool operator==(const Offer&, const Offer&) = default;
};

struct QueryAnswer {
  uint32_t total = 0;
  uint32_t next_cursor = 0;  // 0 when this page is the last
  std::vector<Offer> offers;

  friend bool operator==(const QueryAnswer&, const QueryAnswer&) = default;
};

// The body of a packet. std::monostate is an answer that carries an error
// status and no body (the spec's "body empty, item count 0").
using Body = std::variant<std::monostate, PingRequest, PingAnswer,
                          RegisterRequest, RegisterAnswer, WithdrawRequest,
                          WithdrawAnswer, QueryRequest, QueryAnswer>;

struct Packet {
  Header header;
  Body body;

  friend bool operator==(const Packet&, const Packet&) = default;
};

// (protocol, type) of a packet kind, and back. KindOf is empty for an
// unknown (protocol, type) pair.
Header HeaderFor(wire::PacketKind kind, uint32_t txid, wire::CheckType check);
std::optional<wire::PacketKind> KindOf(uint8_t protocol, uint8_t type);
// The kind of the body alternative; empty for std::monostate.
std::optional<wire::PacketKind> KindOf(const Body& body);

}  // namespace crsp::protocol

#endif  // CRSP_PROTOCOL_PACKETS_H_
