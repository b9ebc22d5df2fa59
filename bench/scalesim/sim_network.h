// An in-memory datagram network for many OpenDHT nodes in one process and
// one thread (docs/scaling.md "The simulation"): each ::dht::Dht gets a
// DatagramSocket that queues datagrams here, with a fixed one-way latency
// and no loss, and the event loop feeds them to Dht::periodic. Every
// datagram is counted, by the OpenDHT message kind it carries. A node can
// be killed: datagrams to and from it vanish.
//
// OpenDHT reads the real clock, so simulated time is wall-clock time.
#ifndef CRSP_BENCH_SCALESIM_SIM_NETWORK_H_
#define CRSP_BENCH_SCALESIM_SIM_NETWORK_H_

#include <opendht/dht.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <vector>

namespace crsp::scalesim {

using Clock = ::dht::clock;

class SimNetwork {
 public:
  explicit SimNetwork(std::chrono::microseconds latency) : latency_(latency) {}

  // Adds a node with a random id; every node's address is 10.x.y.z:4222.
  // `config` tunes it (rate limits off, as in a cluster of one /64).
  size_t AddNode();
  ::dht::Dht& node(size_t i) { return *nodes_[i].dht; }
  size_t size() const { return nodes_.size(); }
  bool alive(size_t i) const { return nodes_[i].alive; }
  ::dht::SockAddr AddressOf(size_t i) const;
  // The node whose address `a` is, or SIZE_MAX.
  size_t IndexOf(const ::dht::SockAddr& a) const;
  // Datagrams to and from node i vanish from now on; it is never run again.
  void Kill(size_t i);

  // Runs node i's timers now: call after giving it work (put, get, ...).
  void Kick(size_t i);
  // Runs `action` from the event loop, outside any OpenDHT call: OpenDHT
  // callbacks (and store policies) use it to act on a node.
  void Defer(std::function<void()> action) {
    deferred_.push_back(std::move(action));
  }
  // Runs `action` from the event loop once `d` has passed.
  void After(std::chrono::milliseconds d, std::function<void()> action) {
    timers_.emplace(Clock::now() + d, std::move(action));
  }
  // Runs the network for `d` of wall-clock time, or until `done()`.
  void Run(std::chrono::milliseconds d,
           const std::function<bool()>& done = {});

  // Datagrams sent since the last ResetCounts, in all and by kind
  // ("q/put", "r/" for replies, ...).
  uint64_t datagrams() const { return total_; }
  const std::map<std::string, uint64_t>& by_kind() const { return by_kind_; }
  void ResetCounts();
  // Counted as sent by the simulation itself (CRSP's forwarded query and
  // its answer, which are not OpenDHT datagrams).
  void CountExtra(const std::string& kind, uint64_t n);

 private:
  class Socket;
  struct Packet {
    Clock::time_point at;
    size_t to;
    ::dht::SockAddr from;
    std::vector<uint8_t> data;
  };
  struct Later {
    bool operator()(const Packet& a, const Packet& b) const {
      return a.at > b.at;
    }
  };
  struct Node {
    std::unique_ptr<::dht::Dht> dht;
    Clock::time_point wake = Clock::time_point::max();
    bool alive = true;
  };
  void Send(size_t from, const ::dht::SockAddr& to, const uint8_t* data,
            size_t size);
  void Deliver(const Packet& p, Clock::time_point now);

  std::chrono::microseconds latency_;
  std::vector<Node> nodes_;
  std::priority_queue<Packet, std::vector<Packet>, Later> packets_;
  std::vector<std::function<void()>> deferred_;
  std::multimap<Clock::time_point, std::function<void()>> timers_;
  std::priority_queue<std::pair<Clock::time_point, size_t>,
                      std::vector<std::pair<Clock::time_point, size_t>>,
                      std::greater<>>
      wakes_;
  uint64_t total_ = 0;
  std::map<std::string, uint64_t> by_kind_;
};

}  // namespace crsp::scalesim

#endif  // CRSP_BENCH_SCALESIM_SIM_NETWORK_H_
