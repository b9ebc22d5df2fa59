#include "query_engine.h"

#include <algorithm>
#include <vector>

#include "crsp/protocol/check.h"
#include "crsp/protocol/wire.h"

namespace crsp::node {
namespace {

// The filter of one entry, over protocol::Offer or RankedOffer (same field
// names), so the answer path and Matches cannot disagree. `from` is the
// query's wanted from, or now.
template <typename O>
bool FieldsMatch(const O& o, const protocol::QueryEntry& entry,
                 const protocol::QueryRequest& query, uint64_t from,
                 uint64_t now) {
  return (entry.unit == wire::kAnyBillingUnit || o.unit == entry.unit) &&
         o.price <= entry.max_price && o.quantity >= entry.min_quantity &&
         (query.currency == 0 || o.currency == query.currency) &&
         o.valid_until > now && o.valid_from <= from && from < o.valid_until &&
         (query.wanted_until == 0 || o.valid_until >= query.wanted_until);
}

// The matches of every entry naming one resource id, in answer order: a
// walk of the index's ranked array. Offers of different resource ids are
// different offers, so streams never share one; an offer matching two
// entries of the same id is one match of its stream.
class Stream {
 public:
  Stream(uint16_t resource, std::span<const RankedOffer> ranked,
         const protocol::QueryRequest& query, uint64_t now)
      : resource_(resource),
        query_(query),
        now_(now),
        from_(query.wanted_from != 0 ? query.wanted_from : now) {
    uint32_t max_price = 0;
    for (const protocol::QueryEntry& entry : query.entries) {
      if (entry.resource != resource) continue;
      entries_.push_back(&entry);
      max_price = std::max(max_price, entry.max_price);
    }
    // Sorted by price: nothing past the highest wanted price can match.
    pos_ = ranked.data();
    end_ = std::partition_point(
        ranked.data(), ranked.data() + ranked.size(),
        [max_price](const RankedOffer& r) { return r.price <= max_price; });
    SkipToMatch();
  }

  uint16_t resource() const { return resource_; }
  bool done() const { return pos_ == end_; }
  const RankedOffer& head() const { return *pos_; }
  void Next() {
    ++pos_;
    SkipToMatch();
  }
  // Matches from the head on (the head included), consuming none.
  size_t CountRest() const {
    size_t n = 0;
    for (const RankedOffer* p = pos_; p != end_; ++p) n += Match(*p);
    return n;
  }

 private:
  bool Match(const RankedOffer& r) const {
    for (const protocol::QueryEntry* entry : entries_) {
      if (FieldsMatch(r, *entry, query_, from_, now_)) return true;
    }
    return false;
  }
  void SkipToMatch() {
    while (pos_ != end_ && !Match(*pos_)) ++pos_;
  }

  uint16_t resource_;
  const protocol::QueryRequest& query_;
  uint64_t now_;
  uint64_t from_;
  std::vector<const protocol::QueryEntry*> entries_;
  const RankedOffer* pos_;
  const RankedOffer* end_;
};

// Answer order across streams: (price, valid from, device, resource).
bool Before(const Stream& a, const Stream& b) {
  const RankedOffer& x = a.head();
  const RankedOffer& y = b.head();
  if (x.price != y.price) return x.price < y.price;
  if (x.valid_from != y.valid_from) return x.valid_from < y.valid_from;
  const protocol::DeviceId& dx = x.indexed->record.offer.device;
  const protocol::DeviceId& dy = y.indexed->record.offer.device;
  if (dx != dy) return dx < dy;
  return a.resource() < b.resource();
}

}  // namespace

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
         FieldsMatch(offer, entry, query, from, now);
}

protocol::QueryAnswer RunQuery(const OfferIndex& index,
                               const protocol::QueryRequest& query,
                               uint64_t now, size_t per_answer) {
  std::vector<Stream> streams;
  streams.reserve(query.entries.size());
  for (const protocol::QueryEntry& entry : query.entries) {
    const bool seen = std::any_of(
        streams.begin(), streams.end(),
        [&](const Stream& s) { return s.resource() == entry.resource; });
    if (!seen) {
      streams.emplace_back(entry.resource, index.Ranked(entry.resource), query,
                           now);
    }
  }

  size_t limit = per_answer;
  if (query.max_results != 0) {
    limit = std::min<size_t>(limit, query.max_results);
  }
  const size_t page_end = size_t{query.cursor} + limit;
  protocol::QueryAnswer answer;
  // Merge in answer order up to the end of the page, keeping the page...
  size_t position = 0;
  while (position < page_end) {
    Stream* first = nullptr;
    for (Stream& s : streams) {
      if (!s.done() && (first == nullptr || Before(s, *first))) first = &s;
    }
    if (first == nullptr) break;
    if (position >= query.cursor) {
      answer.offers.push_back(first->head().indexed->record.offer);
    }
    ++position;
    first->Next();
  }
  // ...then only count what follows, stream by stream (order no longer
  // matters).
  size_t total = position;
  for (const Stream& s : streams) total += s.CountRest();
  answer.total = static_cast<uint32_t>(total);
  answer.next_cursor =
      position < total ? static_cast<uint32_t>(position) : uint32_t{0};
  return answer;
}

}  // namespace crsp::node
