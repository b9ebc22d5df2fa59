#include "record_policy.h"

#include <algorithm>
#include <array>

#include "crsp/dht_adapter/keys.h"
#include "crsp/protocol/wire.h"
#include "fnv.h"

namespace crsp::dht {

std::optional<OfferRecord> AcceptRecord(std::span<const std::byte> bytes,
                                        uint64_t now) {
  std::optional<OfferRecord> record = DecodeRecord(bytes);
  if (!record) return std::nullopt;
  // An offer is gone from valid_until on (PROTOCOL.md).
  if (record->offer.valid_until <= now) return std::nullopt;
  if (!VerifyRecordSignature(*record)) return std::nullopt;
  if (record->signed_request.empty()) {
    record->offer.flags &= static_cast<uint8_t>(~wire::kOfferFlagSigned);
  } else {
    record->offer.flags |= wire::kOfferFlagSigned;
  }
  return record;
}

bool KeyAllowedFor(const std::string& key_name, const OfferRecord& record) {
  const std::vector<std::string> keys =
      KeysOfDevice(record.offer.resource, record.offer.device);
  return std::find(keys.begin(), keys.end(), key_name) != keys.end();
}

uint64_t ValueIdFor(const protocol::DeviceId& device, uint16_t resource,
                    std::span<const uint8_t> node_id) {
  const std::array<uint8_t, 2> r = {static_cast<uint8_t>(resource >> 8),
                                    static_cast<uint8_t>(resource)};
  uint64_t id = Fnv1a64(device);
  id = Fnv1a64(r, id);
  id = Fnv1a64(node_id, id);
  // OpenDHT reserves id 0 (Value::INVALID_ID).
  return id == 0 ? 1 : id;
}

uint64_t VersionValueId(uint64_t offer_id, uint64_t version) {
  std::array<uint8_t, 16> bytes{};
  for (size_t i = 0; i < 8; ++i) {
    bytes[i] = static_cast<uint8_t>(offer_id >> (8 * i));
    bytes[8 + i] = static_cast<uint8_t>(version >> (8 * i));
  }
  const uint64_t id = Fnv1a64(bytes);
  return id == 0 ? 1 : id;
}

}  // namespace crsp::dht
