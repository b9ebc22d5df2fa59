// The DHT record of one version of one offer, and its msgpack encoding.
// docs/storage.md documents the layout field by field; every node of a
// cluster must agree on it.
#ifndef CRSP_DHT_ADAPTER_OFFER_RECORD_H_
#define CRSP_DHT_ADAPTER_OFFER_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "crsp/protocol/packets.h"

namespace crsp::dht {

// One version of the offer (offer.device, offer.resource). The newest
// version (highest `version`) wins; a withdrawn version is a tombstone that
// hides every older one until offer.valid_until.
struct OfferRecord {
  // As a query answer serves it. flags bit 0 is never trusted from the
  // record: readers set it only after re-verifying `signed_request`.
  protocol::Offer offer;
  // Orders versions of one offer: the signed request's transaction id for
  // signed offers, the accepting node's clock in milliseconds otherwise.
  uint64_t version = 0;
  bool withdrawn = false;
  // Unsigned offers: the source address that owns the device id.
  protocol::Ipv6Address owner_address{};
  // Signed offers: the seller's whole type-7 register (or, for a tombstone,
  // withdraw) request, so that every node can re-verify the signature and
  // that the offer's fields are what the seller signed. Empty if unsigned.
  std::vector<std::byte> signed_request;

  friend bool operator==(const OfferRecord&, const OfferRecord&) = default;
};

// Largest encoded record a node stores or accepts from a peer.
inline constexpr size_t kMaxRecordSize = 4096;

std::vector<std::byte> EncodeRecord(const OfferRecord& record);
// Empty on any malformed, truncated or oversized input. Never throws.
std::optional<OfferRecord> DecodeRecord(std::span<const std::byte> bytes);

// True when the record is signed and its signed_request verifies and
// carries this very offer (same device, resource and fields) under the
// record's version; or when it is unsigned. A reader serves a record only
// when this holds, and sets flags bit 0 for the signed ones.
bool VerifyRecordSignature(const OfferRecord& record);

// The record in `bytes` when it decodes (so at most kMaxRecordSize bytes),
// is not past valid_until at `now` (seconds since the epoch) and passes
// VerifyRecordSignature; flags bit 0 is then set for a signed record and
// cleared for an unsigned one. Empty otherwise. What every reader of the
// DHT serves, and what an aggregator takes from a push.
std::optional<OfferRecord> AcceptRecord(std::span<const std::byte> bytes,
                                        uint64_t now);

// The Ed25519 key in the trailer of the record's signed_request; nullopt
// for an unsigned record. It verifies nothing: call it on records that
// VerifyRecordSignature accepted (every stored, indexed or edited one),
// where it costs a copy instead of an Ed25519 verification.
std::optional<protocol::PublicKey> RecordSigner(const OfferRecord& record);

}  // namespace crsp::dht

#endif  // CRSP_DHT_ADAPTER_OFFER_RECORD_H_
