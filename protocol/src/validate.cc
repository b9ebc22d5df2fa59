// Field validation of register entries (declared in codec.h): what the
// decoder checks without a clock, and the one rule that needs it.
#include "crsp/protocol/codec.h"

namespace crsp::protocol {

wire::Status ValidateEntry(const ResourceEntry& entry) {
  if (!wire::IsValidResourceId(entry.resource) ||
      entry.unit > wire::kMaxBillingUnit || entry.quantity == 0 ||
      entry.valid_until <= entry.valid_from) {
    return wire::Status::kInvalidField;
  }
  return wire::Status::kOk;
}

wire::Status ValidateEntryAt(const ResourceEntry& entry, uint64_t now) {
  wire::Status status = ValidateEntry(entry);
  if (status != wire::Status::kOk) {
    return status;
  }
  return entry.valid_until > now ? wire::Status::kOk
                                 : wire::Status::kInvalidField;
}

}  // namespace crsp::protocol
