// Fuzz target for the DHT record decoder: DecodeRecord must never crash or
// read out of bounds, and whatever it accepts must survive
// EncodeRecord -> DecodeRecord unchanged. VerifyRecordSignature runs on
// accepted records too, as every reader does.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "crsp/dht_adapter/offer_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> bytes(
      reinterpret_cast<const std::byte*>(data), size);
  std::optional<crsp::dht::OfferRecord> record = crsp::dht::DecodeRecord(bytes);
  if (!record) return 0;
  const std::vector<std::byte> again = crsp::dht::EncodeRecord(*record);
  std::optional<crsp::dht::OfferRecord> back = crsp::dht::DecodeRecord(again);
  if (!back || *back != *record) std::abort();
  (void)crsp::dht::VerifyRecordSignature(*record);
  return 0;
}
