// docs/scaling.md's roles driven on simulated OpenDHT nodes: the election
// through demands seen by the rendezvous key's storers, aggregators that
// cold-read an id's keys and then advertise, writers that push each
// confirmed record to the id's aggregators, and querying nodes that look
// adverts up and forward. The decisions are the project's own
// (crsp/dht_adapter/aggregator_role.h); this file only wires them to
// ::dht::Dht calls, as the node will do through its adapter.
#ifndef CRSP_BENCH_SCALESIM_ROLES_H_
#define CRSP_BENCH_SCALESIM_ROLES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "crsp/dht_adapter/aggregator_role.h"
#include "sim_network.h"

namespace crsp::scalesim {

// The keys an aggregator watches. The simulation uses one price bucket of
// an id (64 shard keys) instead of 22: a registration's cost does not
// depend on how many keys an id has, and a cold read's scales with them
// (reported x22).
std::vector<::dht::InfoHash> SimKeysOf(uint16_t resource);

class Roles {
 public:
  Roles(SimNetwork* net, uint16_t resource);

  // Registers the rendezvous value type (with its store policy, which
  // notices demands) on node i. Call for every node before it joins.
  void Install(size_t i);

  // What a querying node got: where it forwarded, or why it could not.
  struct QueryOutcome {
    bool done = false;
    bool forwarded = false;      // a live, warm aggregator answered
    size_t timeouts = 0;         // forwards to aggregators that were gone
    size_t usable_adverts = 0;   // after UsableAdverts
    bool demanded = false;       // it put a demand (fallback)
  };
  // Node i asks about the id: adverts (a get of the rendezvous key), then a
  // forward to each usable one in order until a live warm one answers
  // (2 datagrams counted; a dead one costs kForwardTimeout of waiting),
  // else a demand naming the ones that did not answer.
  void Query(size_t i, QueryOutcome* outcome);

  // Node i's put of a record under the id was confirmed: it pushes the
  // record to the id's aggregators (docs/scaling.md "Pushed records"),
  // after reading the adverts if its cache of them (kAdvertCache) is
  // older. Each push to a live aggregator counts 2 datagrams (the push and
  // its ack, "crsp/push"); to a dead one, kPushTries sends.
  void Push(size_t i);
  // Adverts reads the pushes above made (gets of the rendezvous key).
  uint64_t push_adverts_reads() const { return push_adverts_reads_; }

  const std::set<size_t>& aggregators() const { return aggregators_; }
  const std::set<size_t>& warm() const { return warm_; }
  // The k alive nodes closest to the rendezvous key (global knowledge).
  std::set<size_t> TrueClosest() const;
  ::dht::InfoHash rendezvous() const { return rendezvous_; }
  // Per node that ran the election check: how many nodes its search
  // returned (suspects and expired ones left out) and whether it elected
  // itself (diagnostics for the election's figures).
  struct Check {
    size_t searched = 0;
    bool elected = false;
  };
  const std::map<size_t, std::vector<Check>>& checks() const { return checks_; }

 private:
  void CheckRole(size_t i, std::vector<protocol::NodeId> suspects);
  void BecomeAggregator(size_t i);
  void Forward(size_t i, std::vector<dht::aggregator::ForwardTarget> targets,
               size_t next, std::vector<protocol::NodeId> failed,
               QueryOutcome* outcome);
  void PushTo(size_t i,
              const std::vector<dht::aggregator::ForwardTarget>& targets);
  // A get of the rendezvous key at node i; `done` gets the usable adverts.
  void ReadAdverts(
      size_t i,
      std::function<void(std::vector<dht::aggregator::ForwardTarget>)> done);

  SimNetwork* net_;
  uint16_t resource_;
  ::dht::InfoHash rendezvous_;
  std::set<size_t> checking_, aggregators_, warm_;
  // When each node last demanded, and last ran the check (kDemandInterval
  // apart at most once).
  std::map<size_t, Clock::time_point> demanded_at_, checked_at_;
  // Each writer's adverts, as its push cache keeps them.
  struct PushCache {
    Clock::time_point read_at;
    std::vector<dht::aggregator::ForwardTarget> targets;
  };
  std::map<size_t, PushCache> push_cache_;
  uint64_t push_adverts_reads_ = 0;
  std::map<size_t, std::vector<Check>> checks_;
};

}  // namespace crsp::scalesim

#endif  // CRSP_BENCH_SCALESIM_ROLES_H_
