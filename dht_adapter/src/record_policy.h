// The one rule for which offer values a node stores and serves, shared by
// OpenDhtDht's store policy and read path and by InMemoryDht
// (docs/storage.md "Store policy").
#ifndef CRSP_DHT_ADAPTER_SRC_RECORD_POLICY_H_
#define CRSP_DHT_ADAPTER_SRC_RECORD_POLICY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "crsp/dht_adapter/offer_record.h"

namespace crsp::dht {

// AcceptRecord (offer_record.h) is this rule's first half.

// True when `key_name` is one of the keys the record may be stored under:
// its resource, any price bucket (an older price's key keeps a copy of the
// newest version, docs/storage.md), its device's shard.
bool KeyAllowedFor(const std::string& key_name, const OfferRecord& record);

// The value id of an offer published by one node: the same for every
// version of (device, resource) put by that node, different across nodes.
uint64_t ValueIdFor(const protocol::DeviceId& device, uint16_t resource,
                    std::span<const uint8_t> node_id);

// The value id of one version of that offer (`offer_id` from ValueIdFor):
// every version is a new value, since OpenDHT 2.4.12 tells listeners of an
// edit only when its seq grows, and an unsigned value's seq is not sent
// (docs/storage.md "Value ids, versions and edits").
uint64_t VersionValueId(uint64_t offer_id, uint64_t version);

}  // namespace crsp::dht

#endif  // CRSP_DHT_ADAPTER_SRC_RECORD_POLICY_H_
