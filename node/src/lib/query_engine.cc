#include "query_engine.h"

#include <algorithm>
#include <vector>

#include "crsp/protocol/check.h"
#include "crsp/protocol/wire.h"

namespace crsp::node {
namespace {

// The filter of one query entry (PROTOCOL.md "Query request"), over
// protocol::Offer or RankedOffer (same field names), so the answer path and
// Matches cannot disagree. Plain values, so a scan keeps them in registers.
struct Filter {
  Filter(const protocol::QueryEntry& entry, const protocol::QueryRequest& query,
         uint64_t now)
      : unit(entry.unit),
        currency(query.currency),
        max_price(entry.max_price),
        min_quantity(entry.min_quantity),
        from(query.wanted_from != 0 ? query.wanted_from : now),
        now(now),
        wanted_until(query.wanted_until) {}

  template <typename O>
  bool operator()(const O& o) const {
    return (unit == wire::kAnyBillingUnit || o.unit == unit) &&
           o.price <= max_price && o.quantity >= min_quantity &&
           (currency == 0 || o.currency == currency) && o.valid_until > now &&
           o.valid_from <= from && from < o.valid_until &&
           (wanted_until == 0 || o.valid_until >= wanted_until);
  }

  // Whether every offer within the bounds `s` passes: the test above
  // applied to the bounds (each field's worst case in the block).
  bool Covers(const BlockSummary& s) const {
    return (unit == wire::kAnyBillingUnit || (s.one_unit && s.unit == unit)) &&
           s.max_price <= max_price && s.min_quantity >= min_quantity &&
           (currency == 0 || (s.one_currency && s.currency == currency)) &&
           s.min_valid_until > now && s.max_valid_from <= from &&
           from < s.min_valid_until &&
           (wanted_until == 0 || s.min_valid_until >= wanted_until);
  }

  uint8_t unit;
  uint16_t currency;
  uint32_t max_price;
  uint32_t min_quantity;
  uint64_t from;  // wanted from, or now
  uint64_t now;
  uint64_t wanted_until;
};

// The matches of every entry naming one resource id, in answer order: a
// walk of the index's RankedOffers. Offers of different resource ids are
// different offers, so streams never share one; an offer matching two
// entries of the same id is one match of its stream.
class Stream {
 public:
  Stream(uint16_t resource, const RankedOffers& ranked,
         const protocol::QueryRequest& query, uint64_t now)
      : resource_(resource),
        ranked_(ranked),
        pos_(ranked.begin()),
        end_(ranked.end()) {
    for (const protocol::QueryEntry& entry : query.entries) {
      if (entry.resource != resource) continue;
      filters_.emplace_back(entry, query, now);
      max_price_ = std::max(max_price_, entry.max_price);
    }
    SkipToMatch();
  }

  uint16_t resource() const { return resource_; }
  bool done() const { return pos_ == end_; }
  const RankedOffer& head() const { return *pos_; }
  void Next() {
    ++pos_;
    SkipToMatch();
  }
  // Matches from the head on (the head included), consuming none. Blocks
  // whose every offer a filter accepts are counted whole, so a broad query
  // (any price, unit and currency, offers already valid) costs one step
  // per block, not one per offer.
  size_t CountRest() const {
    if (done()) return 0;
    const uint32_t max_price = max_price_;
    const auto past = [max_price](const RankedOffer& r) {
      return r.price > max_price;
    };
    if (filters_.size() == 1) {  // the common case, without the inner loop
      const Filter filter = filters_[0];
      return ranked_.Count(
          pos_, [&](const BlockSummary& s) { return filter.Covers(s); }, past,
          filter);
    }
    return ranked_.Count(
        pos_,
        [&](const BlockSummary& s) {
          return std::any_of(filters_.begin(), filters_.end(),
                             [&](const Filter& f) { return f.Covers(s); });
        },
        past, [&](const RankedOffer& r) { return Match(r); });
  }

 private:
  bool Match(const RankedOffer& r) const {
    for (const Filter& filter : filters_) {
      if (filter(r)) return true;
    }
    return false;
  }
  // Sorted by price: past the highest wanted price nothing can match.
  void SkipToMatch() {
    while (pos_ != end_ && !Match(*pos_)) {
      if (pos_->price > max_price_) {
        pos_ = end_;
        return;
      }
      ++pos_;
    }
  }

  uint16_t resource_;
  const RankedOffers& ranked_;
  uint32_t max_price_ = 0;
  std::vector<Filter> filters_;
  RankedOffers::Iterator pos_;
  RankedOffers::Iterator end_;
};

// Answer order across streams: (price, valid from, device, resource).
bool Before(const Stream& a, const Stream& b) {
  const RankedOffer& x = a.head();
  const RankedOffer& y = b.head();
  if (x.price != y.price) return x.price < y.price;
  if (x.valid_from != y.valid_from) return x.valid_from < y.valid_from;
  const protocol::DeviceId& dx = x.device();
  const protocol::DeviceId& dy = y.device();
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
  return offer.resource == entry.resource && Filter(entry, query, now)(offer);
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
