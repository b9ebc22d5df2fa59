// What a Node reports for the daemon's metrics (docs/metrics.md): a plain
// interface with no-op defaults, injected through NodeContext, so the node
// library depends on no metrics library. crsp-node implements it on
// prometheus-cpp (node/src/daemon/prometheus_metrics.h).
//
// Calls come from every thread that calls into the Node (HandleDatagram,
// Tick), from DHT callbacks and from the journal's sync thread, some with
// the node's lock held: an implementation must be thread-safe, never block
// and never call back into the Node. Answered runs once per answer sent and
// ResourceIdsServed once per query, so they must cost no more than an
// atomic add or two (no lock, no label lookup, no allocation).
#ifndef CRSP_NODE_METRICS_H_
#define CRSP_NODE_METRICS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "crsp/protocol/packets.h"
#include "crsp/protocol/wire.h"

namespace crsp::node {

// The request an answer is for; kOther: an answerable datagram of no known
// request (it gets an error answer).
enum class RequestType : uint8_t {
  kPing,
  kRegister,
  kWithdraw,
  kQuery,
  kOther
};
inline constexpr size_t kRequestTypes = 5;
// From the header's protocol and type bytes (wire::kOffProtocol, kOffType).
RequestType RequestTypeOf(uint8_t protocol, uint8_t type);

// Why a datagram got no answer at all.
enum class DropReason : uint8_t {
  kBudget,       // over its source's answer budget, and even a RATE_LIMITED
                 // answer would be larger than the request
  kUndecodable,  // PROTOCOL.md says no answer (not CRSP, truncated header)
};

// Why a request or an entry was answered RATE_LIMITED.
enum class LimitReason : uint8_t {
  kBudget,         // the source's answer byte budget (the whole request)
  kQuota,          // an offer quota (one entry of a register)
  kPendingWrites,  // Limits::max_pending_writes (the whole request)
  kPeerBudget,     // a forwarded query, over its DHT peer's answer budget
};

// How a query's resource id was answered. kForwarded (asked of another
// node) does not happen yet: every node answers from its own index.
enum class ServedFrom : uint8_t { kIndex, kColdRead, kForwarded };

// Pushed records (docs/scaling.md "Pushed records"). A pusher's: a push
// datagram sent (resends too), acked OK, answered not OK (the aggregator
// does not serve the id), given up unacked after its tries; records not
// pushed for want of room (left to the aggregators' re-reads). An
// aggregator's: records taken into its index.
enum class PushEvent : uint8_t {
  kSent,
  kAcked,
  kRefused,
  kGivenUp,
  kNotSent,
  kRecordsTaken,
};

// Sampled by Tick, about once a second.
struct OfferGauges {
  uint64_t journaled = 0;       // live offers in this node's journal
  uint64_t indexed = 0;         // records in the warm index
  uint64_t pending_writes = 0;  // records awaiting the DHT
};

class NodeMetrics {
 public:
  virtual ~NodeMetrics() = default;

  // An answer of `bytes` bytes with header status `status` was sent for a
  // request of `type` (resends answered from the cache included). Not
  // called by the Node: by whoever sends its answers (crsp-node's
  // UdpServer), which can count them without wrapping each reply.
  virtual void Answered(RequestType type, wire::Status status, size_t bytes) {}
  virtual void Dropped(DropReason reason) {}
  virtual void RateLimited(LimitReason reason) {}
  // `records` offers or withdrawals were written to the journal.
  virtual void Journaled(size_t records) {}
  // One journal fdatasync took `took`.
  virtual void JournalSynced(std::chrono::nanoseconds took) {}
  // A query's entries: `from_index` answered from this node's warm index,
  // `cold_read` by a direct read of the DHT, `forwarded` by an aggregator
  // (docs/scaling.md).
  virtual void ResourceIdsServed(size_t from_index, size_t cold_read,
                                 size_t forwarded) {}
  virtual void Offers(const OfferGauges& gauges) {}
  // `n` pushes (kSent .. kGivenUp) or records (kNotSent, kRecordsTaken).
  virtual void Pushed(PushEvent event, size_t n) {}
};

}  // namespace crsp::node

#endif  // CRSP_NODE_METRICS_H_
