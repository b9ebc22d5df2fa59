#include "query_engine.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "crsp/protocol/check.h"
#include "crsp/protocol/wire.h"

namespace crsp::node {

size_t OffersPerAnswer(wire::CheckType check) {
  const size_t fixed = wire::kHeaderSize + wire::kAnswerDescriptorSize +
                       protocol::TrailerSize(check);
  return (wire::kMaxAnswer - fixed) / wire::kOfferSize;
}

wire::Status ValidateQueryAt(const protocol::QueryRequest& query,
                             uint64_t now) {
  const uint64_t from = query.wanted_from != 0 ? query.wanted_from : now;
  if (query.wanted_until != 0 && query.wanted_until <= from) {
    return wire::Status::kInvalidField;
  }
  return wire::Status::kOk;
}

bool Matches(const protocol::Offer& offer, const protocol::QueryEntry& entry,
             const protocol::QueryRequest& query, uint64_t now) {
  const uint64_t from = query.wanted_from != 0 ? query.wanted_from : now;
  return offer.resource == entry.resource &&
         (entry.unit == wire::kAnyBillingUnit || offer.unit == entry.unit) &&
         offer.price <= entry.max_price &&
         offer.quantity >= entry.min_quantity &&
         (query.currency == 0 || offer.currency == query.currency) &&
         offer.valid_until > now && offer.valid_from <= from &&
         from < offer.valid_until &&
         (query.wanted_until == 0 || offer.valid_until >= query.wanted_until);
}

protocol::QueryAnswer RunQuery(const OfferIndex& index,
                               const protocol::QueryRequest& query,
                               uint64_t now, size_t per_answer) {
  // (device, resource) identifies an offer: an offer matching two entries
  // is counted once.
  std::set<std::pair<protocol::DeviceId, uint16_t>> seen;
  std::vector<const protocol::Offer*> matches;
  for (const protocol::QueryEntry& entry : query.entries) {
    index.ForEachLive(entry.resource, now, [&](const IndexedOffer& indexed) {
      const protocol::Offer& offer = indexed.record.offer;
      if (Matches(offer, entry, query, now) &&
          seen.emplace(offer.device, offer.resource).second) {
        matches.push_back(&offer);
      }
    });
  }
  std::sort(matches.begin(), matches.end(),
            [](const protocol::Offer* a, const protocol::Offer* b) {
              return std::tie(a->price, a->valid_from, a->device, a->resource) <
                     std::tie(b->price, b->valid_from, b->device, b->resource);
            });

  protocol::QueryAnswer answer;
  answer.total = static_cast<uint32_t>(matches.size());
  size_t limit = per_answer;
  if (query.max_results != 0)
    limit = std::min<size_t>(limit, query.max_results);
  const size_t start = std::min<size_t>(query.cursor, matches.size());
  const size_t end = std::min(matches.size(), start + limit);
  for (size_t i = start; i < end; ++i) answer.offers.push_back(*matches[i]);
  answer.next_cursor = end < matches.size() ? static_cast<uint32_t>(end) : 0;
  return answer;
}

}  // namespace crsp::node
