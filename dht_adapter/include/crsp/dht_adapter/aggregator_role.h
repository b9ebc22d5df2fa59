// The aggregator role of docs/scaling.md, as pure functions: which key a
// resource id's aggregators meet under, what they put there (adverts) and
// what asks for them (demands), whether a node is one of an id's
// aggregators, and which adverts a querying node may forward to. No
// OpenDHT types and no I/O, so that the node and bench/scalesim (which
// runs this logic on thousands of simulated OpenDHT nodes) share one
// implementation.
#ifndef CRSP_DHT_ADAPTER_AGGREGATOR_ROLE_H_
#define CRSP_DHT_ADAPTER_AGGREGATOR_ROLE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crsp/protocol/packets.h"

namespace crsp::dht::aggregator {

// Aggregators per resource id: each adds ~7.4 datagrams to every
// registration of the id (SCALING-NOTES.md), so few; more than one so that
// one death leaves the id served.
inline constexpr size_t kAggregators = 3;
// An advert lives this long in the DHT (an OpenDHT value type of its own;
// OPENDHT-NOTES.md: 10 s or less breaks puts) and is put again every
// kAdvertRefresh, so a dead aggregator's advert is gone within a lifetime.
inline constexpr std::chrono::seconds kAdvertLifetime{180};
inline constexpr std::chrono::seconds kAdvertRefresh{60};
// A querying node keeps the adverts it read, and skips an aggregator that
// did not answer, this long.
inline constexpr std::chrono::seconds kAdvertCache{60};
// A forwarded query unanswered after this goes to the next aggregator.
inline constexpr std::chrono::milliseconds kForwardTimeout{250};
// A node puts at most one demand per id per interval.
inline constexpr std::chrono::seconds kDemandInterval{30};

// The rendezvous key's name: "crsp/1/RRRR/agg" (RRRR: 4 hex digits, as
// in keys.h). The OpenDHT key is InfoHash::get(name).
std::string RendezvousKeyName(uint16_t resource);

// The rendezvous key itself: InfoHash::get(RendezvousKeyName(resource)),
// so that closeness to it can be computed without OpenDHT's types.
protocol::NodeId RendezvousKey(uint16_t resource);

// "I, DHT node `node`, aggregate `resource`, warm since `warm_since`;
// forward its queries to my edge port." warm_since 0 (kWarming): elected,
// its cold read still running (it answers INCOMPLETE until warm), so a
// querying node demands no more aggregators (docs/scaling.md "Warming
// aggregators and direct reads"). The advert names no address: a querying
// node forwards to the address at which its own DHT search met `node`
// (UsableAdverts), so an advert cannot point anywhere else.
struct Advert {
  uint16_t resource = 0;
  protocol::NodeId node{};
  uint16_t port = 0;
  uint64_t warm_since = 0;  // unix seconds; kWarming: not warm yet
  friend bool operator==(const Advert&, const Advert&) = default;
};
inline constexpr uint64_t kWarming = 0;

// "`resource` needs aggregators; these advertised ones did not answer."
// A storer that ranks itself among the closest leaves the suspects out of
// the ranking, so that new aggregators take over before OpenDHT has
// noticed the old ones died (8-34 s, OPENDHT-NOTES.md). A false suspect
// costs an extra aggregator until the next role recheck, nothing more.
struct Demand {
  uint16_t resource = 0;
  std::vector<protocol::NodeId> suspects;  // at most kAggregators
  friend bool operator==(const Demand&, const Demand&) = default;
};

// What is stored under a rendezvous key: an advert or a demand.
struct RendezvousValue {
  enum class Kind { kAdvert, kDemand };
  Kind kind = Kind::kDemand;
  Advert advert;  // kind == kAdvert
  Demand demand;  // kind == kDemand
};

std::vector<std::byte> EncodeAdvert(const Advert& advert);
// At most kAggregators suspects are encoded (the first ones).
std::vector<std::byte> EncodeDemand(const Demand& demand);
// nullopt on anything but a well-formed advert or demand (docs/scaling.md,
// "Adverts"), trailing bytes included. Never throws.
std::optional<RendezvousValue> DecodeRendezvousValue(
    std::span<const std::byte> bytes);

// XOR distance order: true when `a` is closer to `key` than `b`.
bool Closer(const protocol::NodeId& key, const protocol::NodeId& a,
            const protocol::NodeId& b);

// Whether `self` is among the `k` ids closest to `key` in `self` plus
// `others` (the nodes a DHT search for the key ended on; `self` among them
// is ignored, duplicates count once).
bool AmongClosest(const protocol::NodeId& key, const protocol::NodeId& self,
                  std::span<const protocol::NodeId> others,
                  size_t k = kAggregators);

// The election (docs/scaling.md "Election"): whether `self` takes the
// role for the id whose rendezvous key is `key`. `searched`: the node ids
// its DHT search for the key ended on; `suspects`: those a demand named as
// not answering, left out of the ranking. A search that met nobody elects
// only a lone node (`has_peers` false): with peers it timed out or failed,
// and electing itself then would make every querying node an aggregator
// (seen: six or seven per id on an overloaded 20-node cluster).
bool Elected(const protocol::NodeId& key, const protocol::NodeId& self,
             std::span<const protocol::NodeId> searched,
             std::span<const protocol::NodeId> suspects, bool has_peers);

// Whether a node puts a demand for an id now, or runs the role check a
// stored demand asks for: one that names suspects always (news of a
// death); a plain one at most once per kDemandInterval per node and id,
// since every querying node may demand. `since_last`: time since this
// node's last one for the id (nullopt: none yet).
bool DemandDue(std::optional<std::chrono::seconds> since_last,
               bool names_suspects);

// Whether a querying node that found `usable` aggregators of an id asks for
// more (an election that reached too few storers, a death).
constexpr bool TooFewAggregators(size_t usable) {
  return usable < kAggregators;
}

// A DHT node a search ended on, as the querying node saw it. `answering`
// is false for a node OpenDHT marked expired that still replied to this
// node lately (RankedInElections): ranked in elections, never forwarded to.
struct SearchNode {
  protocol::NodeId id{};
  protocol::Ipv6Address address{};
  bool answering = true;
};

// A node OpenDHT marked expired (it missed its replies' deadline) that
// replied to this node within this long is taken for slow, not dead.
inline constexpr std::chrono::seconds kRecentReply{30};

// Whether a node a rendezvous search ended on counts in an election: any
// node not marked expired, and an expired one whose last reply came within
// kRecentReply. On a loaded host the nodes closest to a key answer late and
// are marked expired; leaving them out made the nodes behind them elect
// themselves (6-7 aggregators per id instead of 3 on a saturated 20-node
// cluster). A killed node stops counting kRecentReply after its last
// reply, and a dead aggregator is left out anyway as a demand's suspect.
// `replied`: the node's last reply (time_point::min(): none), on the
// clock of `now` (OpenDHT's steady clock).
constexpr bool RankedInElections(
    bool expired, std::chrono::steady_clock::time_point replied,
    std::chrono::steady_clock::time_point now) {
  return !expired || (replied != std::chrono::steady_clock::time_point::min() &&
                      replied <= now && now - replied < kRecentReply);
}

// Where a query may be forwarded: an aggregator's id, the address the
// DHT search met it at, its advertised edge port, and whether it
// advertised itself warm (false: warming).
struct ForwardTarget {
  protocol::NodeId node{};
  protocol::Ipv6Address address{};
  uint16_t port = 0;
  bool warm = true;
  friend bool operator==(const ForwardTarget&, const ForwardTarget&) = default;
};

// The adverts among what a read of a rendezvous key found.
std::vector<Advert> AdvertsIn(std::span<const RendezvousValue> values);

// How many nodes advertise `resource` (warm or warming) among `adverts`,
// whether or not this node's search met them. A querying node demands more
// aggregators only when too few advertise at all: on a loaded host a
// search often ends without meeting every aggregator, and demanding for
// that elected nodes farther out (seen: 4.4-5.3 aggregators per id in a
// 20-node memory run, each ~30 MB). Dead aggregators are found by
// forwarding to them, which demands naming them. Adverts are not signed by
// the node they name: a node that can forward to none of them demands
// whatever this count says.
size_t Advertisers(uint16_t resource, std::span<const Advert> adverts);

// The aggregators a querying node may forward `resource`'s queries to,
// closest to the rendezvous key first: adverts for that resource whose
// node is one the node's own search for the rendezvous key ended on and
// that answered it, at the address the search met it (so a forged advert
// cannot point forwards at a host outside the DHT). One per aggregator
// id; an id advertised twice keeps the newest advert (highest
// warm_since: a warm advert over the warming one it followed).
std::vector<ForwardTarget> UsableAdverts(
    const protocol::NodeId& rendezvous_key, uint16_t resource,
    std::span<const Advert> adverts, std::span<const SearchNode> searched);

// The role recheck (docs/scaling.md "Election"): whether aggregator
// `self` gives the id up, given the aggregators that serve it (`serving`:
// UsableAdverts of its own search; warming ones do not serve yet). Only
// when at least `k` of them are closer to the key than `self`: merely being
// outranked is not enough, as the closer nodes may not have taken the role
// (yet); an aggregator that resigned before they did left the id to nodes
// farther out, which were elected and resigned in turn (seen: aggregators
// flapping every minute on a 20-node cluster).
bool Resigns(const protocol::NodeId& key, const protocol::NodeId& self,
             std::span<const ForwardTarget> serving, size_t k = kAggregators);

}  // namespace crsp::dht::aggregator

#endif  // CRSP_DHT_ADAPTER_AGGREGATOR_ROLE_H_
