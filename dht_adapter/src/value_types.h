// The OpenDHT value types of offer records, and the one of the aggregators'
// rendezvous values. The offer types differ only in expiration: a stored
// copy lives that long after its last announce, so an offer put with the
// smallest type that covers its remaining validity outlives its accepting
// node until valid_until (docs/storage.md "Value types").
#ifndef CRSP_DHT_ADAPTER_SRC_VALUE_TYPES_H_
#define CRSP_DHT_ADAPTER_SRC_VALUE_TYPES_H_

#include <array>
#include <chrono>
#include <cstdint>

#include "crsp/dht_adapter/aggregator_role.h"

namespace crsp::dht {

struct OfferValueType {
  uint16_t id;
  const char* name;
  std::chrono::seconds expiration;
};

// Ids 0x4301..0x4305 (0x43 is "C"). Every expiration is far above OpenDHT's 10
// s trap.
inline constexpr std::array<OfferValueType, 5> kOfferValueTypes = {{
    {0x4301, "crsp.offer.1h", std::chrono::hours(1)},
    {0x4302, "crsp.offer.6h", std::chrono::hours(6)},
    {0x4303, "crsp.offer.1d", std::chrono::hours(24)},
    {0x4304, "crsp.offer.7d", std::chrono::hours(24 * 7)},
    {0x4305, "crsp.offer.30d", std::chrono::hours(24 * 30)},
}};

// The smallest type whose expiration is >= `remaining`, else the largest
// (the accepting node re-announces; readers drop records past valid_until).
inline const OfferValueType& TypeForRemaining(std::chrono::seconds remaining) {
  for (const OfferValueType& t : kOfferValueTypes) {
    if (t.expiration >= remaining) return t;
  }
  return kOfferValueTypes.back();
}

// A superseded version: when an offer gets a new version, the node edits
// the old version's value into a copy of the new record of this type, so
// that the stored copies of the old value lapse within minutes instead of
// the old type's hours or days (docs/storage.md "Value ids, versions").
inline constexpr OfferValueType kSupersededValueType = {
    0x4300, "crsp.offer.superseded", std::chrono::minutes(2)};

// Adverts and demands under a rendezvous key (docs/scaling.md): their own
// type, so that they get their own store policy (OpenDHT picks a value's
// policy by its type) and lapse kAdvertLifetime after their last put. Id
// 0x4A00 ("J"), apart from the offer types: a value of this type is never
// an offer, and an offer type's value is never an advert or demand.
inline constexpr OfferValueType kRendezvousValueType = {
    0x4A00, "crsp.aggregator",
    std::chrono::duration_cast<std::chrono::seconds>(
        aggregator::kAdvertLifetime)};

inline bool IsOfferType(uint16_t id) {
  if (id == kSupersededValueType.id) return true;
  for (const OfferValueType& t : kOfferValueTypes) {
    if (t.id == id) return true;
  }
  return false;
}

}  // namespace crsp::dht

#endif  // CRSP_DHT_ADAPTER_SRC_VALUE_TYPES_H_
