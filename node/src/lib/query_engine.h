// PROTOCOL.md "Query request" over the warm index: exact matching, merge
// without duplicates, ordering and paging. Pure functions; no DHT here.
#ifndef CRSP_NODE_QUERY_ENGINE_H_
#define CRSP_NODE_QUERY_ENGINE_H_

#include <cstddef>
#include <cstdint>

#include "crsp/protocol/packets.h"
#include "offer_index.h"

namespace crsp::node {

// Offers that fit one answer under `check`: (1232 - header - descriptor -
// trailer) / 72; 16 for most check types, 15 for Ed25519.
size_t OffersPerAnswer(wire::CheckType check);

// Field validity that needs the clock: a wanted-until that is already past
// when wanted-from means now is INVALID_FIELD.
wire::Status ValidateQueryAt(const protocol::QueryRequest& query, uint64_t now);

// Whether `offer` (live) matches `entry` of `query` at `now`.
bool Matches(const protocol::Offer& offer, const protocol::QueryEntry& entry,
             const protocol::QueryRequest& query, uint64_t now);

// Every match of every entry, deduplicated, sorted (price, valid from,
// device bytes, resource), and the page from query.cursor: at most
// query.max_results (0: no limit) and `per_answer` offers. Cost: a merge of
// the index's ranked arrays (one per distinct resource id) up to the end of
// the page, then an allocation-free count of the rest of the offers priced
// up to the entries' max price, taking whole blocks at once where a block's
// bounds show that all of it matches; no sort, no set.
protocol::QueryAnswer RunQuery(const OfferIndex& index,
                               const protocol::QueryRequest& query,
                               uint64_t now, size_t per_answer);

}  // namespace crsp::node

#endif  // CRSP_NODE_QUERY_ENGINE_H_
