// Dht on a real OpenDHT node (dht::DhtRunner), the node's production DHT.
// docs/storage.md describes what it stores and how; no OpenDHT type appears
// here.
//
// Threads: every callback (done, seen, the OnDemand hook) runs on one thread
// of the adapter's own, never on OpenDHT's; callbacks may call every method
// but Shutdown and the destructor (they join that thread). Watch, like
// OpenDHT's listen, also reports the values already stored.
#ifndef CRSP_DHT_ADAPTER_OPENDHT_DHT_H_
#define CRSP_DHT_ADAPTER_OPENDHT_DHT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "crsp/dht_adapter/dht.h"
#include "crsp/dht_adapter/dht_metrics.h"

namespace crsp::dht {

// Plain configuration data; every field has a working default.
struct OpenDhtConfig {
  // UDP port of the DHT on every bound address; 0 picks an ephemeral port
  // (read it back with OpenDhtDht::port()).
  uint16_t port = 4222;
  // Addresses to bind, literal IPs without port. Empty strings: "::" and
  // "0.0.0.0". Set one to "none" to skip that family.
  std::string bind6;
  std::string bind4;
  // Peers to join through: "host:port", "[v6]:port" or "v4:port".
  std::vector<std::string> bootstrap;
  // Directory for the node's OpenDHT identity (identity.key, identity.crt)
  // and, when persist is true, the routing table and stored values
  // (dht.state). Created if missing. Empty: a fresh identity in memory only.
  std::string state_dir;
  bool persist = true;
  // OpenDHT's global and per-source-IP (IPv6: /64) request limits, per
  // second; -1 means none. Every node of a loopback or one-host cluster shares
  // one IP, so OpenDHT's default per-IP 1,024/s would throttle it: the
  // default here is "none" for peers and 32,768/s overall.
  int64_t max_req_per_sec = 32768;
  int64_t max_peer_req_per_sec = -1;
  // OpenDHT re-announces the values it stores to the nodes now closest to
  // their keys, so copies survive the death of the nodes that held them.
  bool maintain_storage = true;
  // OpenDHT's mode for stable server nodes: listens are refreshed every
  // 5 min instead of 30 s (a Watch of a whole resource holds 1,408 listens,
  // each refreshed on up to 8 nodes), and a failed search is not taken as a
  // connectivity change.
  bool public_stable = true;
  // Search anchors: listens on this many keys spread evenly over the
  // keyspace, on which nothing is ever put. OpenDHT 2.4.12 offers every
  // packet's sender to its searches, walking from the sender's id past
  // every search that is done until it meets one that is not; a done
  // search (each one-shot get leaves one, kept 62 minutes) costs that walk
  // on every packet, so 10,000 of them took over half a 20-node cluster's
  // CPU. A listening search ends the walk: with n anchors it passes about
  // done/n searches. Each costs a listen refresh on 4 nodes every 5 minutes
  // (public_stable). docs/storage.md "Search anchors". 0: none.
  uint32_t search_anchors = 128;
  // OpenDHT network id: nodes only talk to nodes of the same network.
  uint32_t network = 0;
  // Whether OpenDHT's own log lines (all passed on as kDebug) reach the
  // logger. Off, OpenDHT gets no logger and never formats them: it formats
  // a line for every search step, which cost a node under query load ~1.5 %
  // of its CPU in vsnprintf and inet_ntop for lines then dropped.
  bool log_opendht = false;
  // Application deadlines: Publish gives up (done(false, 0)) after
  // put_timeout; Fetch runs at most `fetch_parallelism` gets at once.
  std::chrono::milliseconds put_timeout{4500};
  uint32_t fetch_parallelism = 32;
  // GetRendezvous answers by then with the values read so far and no
  // searched nodes when OpenDHT's search has not ended (calls wait in a
  // queue while peers are unconfirmed; a search that meets dead nodes
  // takes about a second for each).
  std::chrono::milliseconds rendezvous_timeout{4500};
  // How often the node pings its bootstrap peers again and looks up its own
  // id (sooner in its first minute), so that nodes that joined together
  // learn of each other and the halves of a healed partition merge. 0: off.
  std::chrono::milliseconds refresh_interval{30000};
  // How often Watch re-reads every watched key (see Watch), at 32 gets/s.
  // 0: only when peers come back.
  std::chrono::milliseconds resync_interval{300000};
  // How long after a kReread Watch its keys are read again (the catch-up
  // read of docs/scaling.md "Pushed records": writers push to the
  // aggregators their advert caches name, and those live 60 s, so a record
  // confirmed before every writer knew the new watcher comes in then).
  std::chrono::milliseconds reread_settle{90000};
  // How often the node stops re-announcing its offers past valid_until
  // (one pass over them, rather than a timer per offer).
  std::chrono::milliseconds expiry_sweep_interval{10000};
};

enum class DhtLogLevel { kError, kWarning, kDebug };
// Injected context: where OpenDHT's and the adapter's log lines go. Called
// from DHT threads.
using DhtLogger = std::function<void(DhtLogLevel, std::string_view)>;

class OpenDhtDht final : public Dht {
 public:
  // Loads (or creates and saves) the identity in config.state_dir, binds,
  // starts the DHT threads and bootstraps. Throws std::runtime_error when
  // the state dir, the identity or the bind fails (start-up only).
  // `metrics` (may be null: nothing counted) is told of every put, get and
  // listen.
  explicit OpenDhtDht(const OpenDhtConfig& config, DhtLogger logger = {},
                      std::shared_ptr<DhtMetrics> metrics = {});
  // Shuts down with a 5 s bound if Shutdown was not called.
  // REQUIRES: not called from a callback of this instance.
  ~OpenDhtDht() override;

  OpenDhtDht(const OpenDhtDht&) = delete;
  OpenDhtDht& operator=(const OpenDhtDht&) = delete;

  void Publish(const OfferRecord& record, PutDone done) override;
  void Fetch(uint16_t resource, uint32_t max_price, FetchDeadlines deadlines,
             FetchDone answer, FetchMore more) override;
  // kListen: listens on the keys, and re-reads them (`seen` may get a
  // record more than once): 5 s after a Watch adds keys, every
  // resync_interval, when a bootstrap peer answers again after it did not,
  // and at a refresh that finds many more good peers than before. A record
  // stored where a listen did not reach is seen by the next re-read.
  // kReread: no listen; the same re-reads, the first reread_settle after
  // the Watch (a get per key, no hole check).
  void Watch(uint16_t resource, uint32_t max_price, RecordSeen seen,
             WatchMode mode) override;
  // One OpenDHT get of the rendezvous key; done(values, searched) when its
  // search ends, or at rendezvous_timeout with what arrived and no nodes.
  void GetRendezvous(uint16_t resource, RendezvousDone done) override;
  // Retried like Publish (a failure while peers exist), done(false) at
  // put_timeout; a node alone answers true once its local copy is there.
  void PutRendezvous(uint16_t resource, std::vector<std::byte> value,
                     std::function<void(bool ok)> done) override;
  // The hook runs on the adapter's thread (posted by the store policy,
  // which runs on OpenDHT's). OpenDHT 2.4.12 calls the store policy only
  // for unsigned values (docs/storage.md "Store policy"): a signed demand
  // is stored unchecked and reaches no hook. Our nodes sign no value.
  void OnDemand(
      std::function<void(const aggregator::Demand& demand)> demand) override;
  // Cancels the listens started and drops the ones still queued.
  void Unwatch(uint16_t resource) override;
  void StopListening(uint16_t resource) override;
  void FetchKeyOf(const protocol::Offer& offer,
                  std::chrono::milliseconds deadline, FetchDone done) override;
  // True for an address OpenDHT's socket received a packet from in the
  // last 10 to 20 minutes (peer_book.h; both families); false for every
  // address after Shutdown.
  bool IsPeer(const protocol::Ipv6Address& address) const override;
  DhtInfo Info() const override;
  // Waits for OpenDHT's shutdown (which saves dht.state when persisting) at
  // most `timeout`, then stops; every pending done is then called (puts
  // with false, fetches with what arrived). Later calls fail at once.
  // REQUIRES: not called from a callback of this instance.
  void Shutdown(std::chrono::milliseconds timeout) override;

  // Offers this node still announces: published, not yet past valid_until
  // at the last expiry sweep.
  size_t AnnouncedOffers() const;

  // The bound UDP port (IPv6 if bound, else IPv4).
  uint16_t port() const;
  // "[::1]:port": how a test or a local peer bootstraps to this node.
  std::string LoopbackAddress() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace crsp::dht

#endif  // CRSP_DHT_ADAPTER_OPENDHT_DHT_H_
