#include "ownership.h"

#include <algorithm>
#include <optional>

namespace crsp::node {

Verdict CheckOwnership(std::span<const IndexedOffer* const> records,
                       const Owner& requester, uint32_t txid, uint64_t now) {
  std::optional<uint64_t> last;
  for (const IndexedOffer* offer : records) {
    if (offer->live(now) && !(offer->owner() == requester)) {
      return Verdict::kRefused;
    }
    if (requester.key && offer->owner() == requester) {
      last = std::max(last.value_or(0), offer->record.version);
    }
  }
  if (!requester.key || !last) return Verdict::kAllowed;
  if (txid < *last) return Verdict::kRefused;
  return txid == *last ? Verdict::kResend : Verdict::kAllowed;
}

}  // namespace crsp::node
