// Versions of one offer: which record wins, and how a node stamps a new one.
// One rule for every place that orders records: the OpenDHT edit policy of
// every storing node (record_policy.cc), a node's own index
// (node/src/lib/offer_index.cc), and the register and withdraw handlers
// that stamp versions (docs/storage.md "Versions and owners").
//
// Versions of different owners are not comparable: an unsigned record's
// version is the accepting node's clock in milliseconds (~1.7e15), a signed
// one's the seller's u32 transaction id, which its signature covers. So
// versions order the records of one owner, and ownership (PROTOCOL.md
// "Ownership") decides between owners.
#ifndef CRSP_DHT_ADAPTER_VERSION_ORDER_H_
#define CRSP_DHT_ADAPTER_VERSION_ORDER_H_

#include <cstdint>
#include <optional>

#include "crsp/dht_adapter/offer_record.h"

namespace crsp::dht {

// True when both records name the same owner: the same Ed25519 key in their
// signed requests, or both unsigned with the same owner address. Call it on
// records VerifyRecordSignature accepted (it reads keys, verifies nothing).
bool SameOwner(const OfferRecord& a, const OfferRecord& b);

// True when `next` replaces `stored`, both versions of the same offer
// (device id and resource id; false otherwise), at `now` (Unix seconds):
//  - same owner: `next` has the higher version;
//  - another owner: `stored` binds nobody any more (withdrawn, or past
//    valid_until), or `next` is signed and `stored` is not (any DHT peer
//    can write an unsigned record, none can forge a signed one).
// A signed record therefore stays with its key while it is valid, and a
// device id may switch between signed and unsigned in both directions once
// its owner's record is withdrawn or expired.
bool Supersedes(const OfferRecord& stored, const OfferRecord& next,
                uint64_t now);

// A fingerprint of the record's owner (its key, or its owner address), for
// remembering who owns an offer without keeping the record: equal for
// SameOwner records; different otherwise, but for 64-bit hash collisions.
uint64_t OwnerFingerprint(const OfferRecord& record);

// The version of a new record (an offer or a tombstone) that a node writes
// for a request accepted at `now` (Unix seconds): the transaction id of a
// signed request (`signed_txid`), which its signature covers; for an
// unsigned one the clock in milliseconds, and past the version of
// `current`, the node's record of the same offer (null if none), so that
// two writes within one clock step still order.
uint64_t StampVersion(std::optional<uint32_t> signed_txid, uint64_t now,
                      const OfferRecord* current);

}  // namespace crsp::dht

#endif  // CRSP_DHT_ADAPTER_VERSION_ORDER_H_
