// The node's configuration: plain data, filled from flags and a TOML file
// through one table of settings (node/src/daemon/settings.h, which holds
// the ranges), with the defaults of the embedded one-node platform.
// Nothing here is a live object; clocks, sockets and the DHT are injected
// apart.
#ifndef CRSP_NODE_CONFIG_H_
#define CRSP_NODE_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "crsp/protocol/wire.h"

namespace crsp::node {

struct Limits {
  // Answer bytes per second each source /64 (IPv4: /24) may receive; past
  // it answers are RATE_LIMITED, empty, and never larger than the request.
  uint32_t answer_bytes_per_sec = 256 * 1024;
  // Burst allowance of the same budget, in bytes.
  uint32_t answer_burst_bytes = 512 * 1024;
  // Answer bytes per second to forwarded queries (docs/scaling.md) each DHT
  // peer address may receive, apart from the buyers' budget; past it the
  // forwarded answer is RATE_LIMITED and empty, and the forwarder tries
  // the id's next aggregator. Per address, not per /64: only DHT peers may
  // send forwarded queries, and a cluster often shares one /64.
  uint32_t peer_answer_bytes_per_sec = 4 << 20;
  uint32_t peer_answer_burst_bytes = 8 << 20;
  // Stored offers per source /64 (IPv4: /24) and per device id.
  uint32_t offers_per_source = 10000;
  uint32_t offers_per_device = 256;
  // Offers this node accepts in total (its own journal).
  uint32_t max_offers = 1000000;
  // Records (offers and tombstones) accepted but not yet confirmed by the
  // DHT nor failed, at most. A register or withdraw arriving past it is
  // answered RATE_LIMITED at once: it could not be published within the
  // publish timeout anyway, and refusing early keeps the requests
  // already accepted within it.
  uint32_t max_pending_writes = 4096;
  // OpenDHT's own request limits (-1: none). A cluster on one host shares
  // one IP, so the per-peer default of 1,024/s is raised deliberately.
  int32_t dht_max_req_per_sec = 65536;
  int32_t dht_max_peer_req_per_sec = 16384;
};

struct NodeConfig {
  // Edge server: UDP, "[addr]:port" or "addr:port". "[::]:7400" is dual
  // stack (IPv4 mapped).
  std::string listen = "[::]:7400";
  // OpenDHT port (UDP, both families).
  uint16_t dht_port = wire::kDefaultDhtPort;
  // OpenDHT bootstrap peers, "host:port" with IPv6 literals in brackets.
  std::vector<std::string> bootstrap;
  // Where the node keeps its identity, keys and offer journal.
  std::string state_dir = DefaultStateDir();
  // Answer every unsigned register or withdraw with NOT_AUTHORIZED.
  bool require_signed = false;
  // Group commit: journal syncs run on a thread of the journal's own, one
  // fdatasync covering every write made while the previous one ran, and
  // answers to registers and withdraws come from that thread. Off, the
  // thread that calls HandleDatagram syncs each request itself (one sync
  // per request, answers before HandleDatagram returns when the DHT
  // confirms inline, as InMemoryDht does: tests and the fuzz target).
  // crsp-node turns it on.
  bool group_commit = false;
  Limits limits;
  // Where crsp-node serves Prometheus metrics over HTTP, "ipv4:port"
  // (docs/metrics.md; no IPv6, see there). Empty: no metrics.
  std::string metrics_listen;
  // trace, debug, info, warn, error, off.
  std::string log_level = "info";

  // $CRSP_STATE_DIR, else $XDG_STATE_HOME/crsp-node, else
  // ~/.local/state/crsp-node, else /var/lib/crsp-node for root without HOME.
  static std::string DefaultStateDir();
};

}  // namespace crsp::node

#endif  // CRSP_NODE_CONFIG_H_
