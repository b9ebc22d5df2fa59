// Test-only builders of offer records: unsigned ones, and records signed the
// way a node stores them (the seller's whole type-7 request inside).
#ifndef CRSP_TESTS_DHT_ADAPTER_RECORD_BUILDER_H_
#define CRSP_TESTS_DHT_ADAPTER_RECORD_BUILDER_H_

#include <cstdint>
#include <vector>

#include "crsp/dht_adapter/offer_record.h"
#include "crsp/protocol/ed25519.h"

namespace crsp::dht::testing {

// Seconds since the epoch, now.
uint64_t Now();

// A valid CPU offer of `device` (first byte `device_byte`), valid for an
// hour from now, unsigned, version 1.
OfferRecord UnsignedRecord(uint8_t device_byte, uint32_t price = 1000,
                           uint16_t resource = 0x0001);

// A key from a fixed seed, so failures reproduce.
protocol::Ed25519Key TestKey(uint8_t seed_byte = 7);

// `offer` as the seller registered it: a type-7 register request with its
// set and one entry, txid `txid`; the record's version is txid.
OfferRecord SignedRecord(const protocol::Offer& offer, uint32_t txid,
                         const protocol::Ed25519Key& key);
// The tombstone of `offer`: a signed withdraw of `resources` (empty: all).
OfferRecord SignedTombstone(const protocol::Offer& offer, uint32_t txid,
                            const std::vector<uint16_t>& resources,
                            const protocol::Ed25519Key& key);

}  // namespace crsp::dht::testing

#endif  // CRSP_TESTS_DHT_ADAPTER_RECORD_BUILDER_H_
