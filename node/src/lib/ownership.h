// PROTOCOL.md "Ownership" as a pure decision over what the index knows of a
// device: who may register or withdraw for it, and the replay rule of
// signed requests (transaction id = sequence number per device id).
#ifndef CRSP_NODE_OWNERSHIP_H_
#define CRSP_NODE_OWNERSHIP_H_

#include <cstdint>
#include <span>

#include "offer_index.h"

namespace crsp::node {

enum class Verdict {
  kAllowed,  // a new request: go on
  kResend,   // signed, same transaction id as the last accepted one
  kRefused,  // NOT_AUTHORIZED
};

// `records`: the device's unexpired versions (OfferIndex::OfDevice).
// - While one of the device's offers is live, only its owner may act: the
//   same key for signed offers, the same source address for unsigned ones.
//   (So a signed request for a device with live unsigned offers is refused
//   too: their versions are not comparable, docs/node.md.)
// - A signed request whose txid is below the highest version the same key
//   made for this device (tombstones included) is refused; equal is a
//   resend.
Verdict CheckOwnership(std::span<const IndexedOffer* const> records,
                       const Owner& requester, uint32_t txid, uint64_t now);

}  // namespace crsp::node

#endif  // CRSP_NODE_OWNERSHIP_H_
