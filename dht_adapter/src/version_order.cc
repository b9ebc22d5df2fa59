#include "crsp/dht_adapter/version_order.h"

#include <algorithm>
#include <array>

#include "fnv.h"

namespace crsp::dht {
namespace {

bool Binding(const OfferRecord& record, uint64_t now) {
  return !record.withdrawn && record.offer.valid_until > now;
}

}  // namespace

bool SameOwner(const OfferRecord& a, const OfferRecord& b) {
  const std::optional<protocol::PublicKey> key_a = RecordSigner(a);
  const std::optional<protocol::PublicKey> key_b = RecordSigner(b);
  if (key_a.has_value() != key_b.has_value()) return false;
  return key_a ? *key_a == *key_b : a.owner_address == b.owner_address;
}

bool Supersedes(const OfferRecord& stored, const OfferRecord& next,
                uint64_t now) {
  if (next.offer.device != stored.offer.device ||
      next.offer.resource != stored.offer.resource) {
    return false;
  }
  if (SameOwner(stored, next)) return next.version > stored.version;
  const bool next_signed = !next.signed_request.empty();
  const bool stored_signed = !stored.signed_request.empty();
  return !Binding(stored, now) || (next_signed && !stored_signed);
}

uint64_t OwnerFingerprint(const OfferRecord& record) {
  // A leading byte keeps a key and an address with equal bytes apart.
  if (const std::optional<protocol::PublicKey> key = RecordSigner(record)) {
    const std::array<uint8_t, 1> kind = {1};
    return Fnv1a64(*key, Fnv1a64(kind));
  }
  const std::array<uint8_t, 1> kind = {0};
  return Fnv1a64(record.owner_address, Fnv1a64(kind));
}

uint64_t StampVersion(std::optional<uint32_t> signed_txid, uint64_t now,
                      const OfferRecord* current) {
  if (signed_txid) return *signed_txid;
  const uint64_t clock_ms = now * 1000;
  return current ? std::max(clock_ms, current->version + 1) : clock_ms;
}

}  // namespace crsp::dht
