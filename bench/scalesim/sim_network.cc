#include "sim_network.h"

#include <arpa/inet.h>
#include <opendht/network_utils.h>

#include <msgpack.hpp>
#include <thread>

namespace crsp::scalesim {
namespace {

constexpr uint16_t kDhtPort = 4222;

uint32_t Ipv4Of(size_t i) { return (10u << 24) | static_cast<uint32_t>(i + 1); }

// "y/q" of an OpenDHT message (a msgpack map), "?" if it is not one.
std::string KindOf(const uint8_t* data, size_t size) {
  try {
    msgpack::object_handle handle =
        msgpack::unpack(reinterpret_cast<const char*>(data), size);
    const msgpack::object& o = handle.get();
    if (o.type != msgpack::type::MAP) return "?";
    std::string y, q;
    for (uint32_t i = 0; i < o.via.map.size; ++i) {
      const auto& kv = o.via.map.ptr[i];
      if (kv.key.type != msgpack::type::STR ||
          kv.val.type != msgpack::type::STR) {
        continue;
      }
      const std::string k(kv.key.via.str.ptr, kv.key.via.str.size);
      const std::string v(kv.val.via.str.ptr, kv.val.via.str.size);
      if (k == "y") y = v;
      if (k == "q") q = v;
    }
    return y + "/" + q;
  } catch (...) {  // a count, not a parser: any undecodable datagram is "?"
    return "?";
  }
}

}  // namespace

class SimNetwork::Socket : public ::dht::net::DatagramSocket {
 public:
  Socket(SimNetwork* net, size_t index)
      : net_(net), index_(index), bound_(net->AddressOf(index)) {}
  int sendTo(const ::dht::SockAddr& to, const uint8_t* data, size_t size,
             bool /*replied*/) override {
    net_->Send(index_, to, data, size);
    return 0;
  }
  bool hasIPv4() const override { return true; }
  bool hasIPv6() const override { return false; }
  const ::dht::SockAddr& getBoundRef(sa_family_t family) const override {
    return family == AF_INET6 ? none_ : bound_;
  }
  void stop() override {}

 private:
  SimNetwork* net_;
  size_t index_;
  ::dht::SockAddr bound_, none_;
};

dht::SockAddr SimNetwork::AddressOf(size_t i) const {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(kDhtPort);
  sin.sin_addr.s_addr = htonl(Ipv4Of(i));
  return ::dht::SockAddr(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

size_t SimNetwork::IndexOf(const ::dht::SockAddr& a) const {
  if (a.getFamily() != AF_INET) return SIZE_MAX;
  const uint32_t ip = ntohl(a.getIPv4().sin_addr.s_addr);
  const size_t i = (ip & 0x00FFFFFFu) - 1;
  if ((ip >> 24) != 10u || i >= nodes_.size()) return SIZE_MAX;
  return i;
}

size_t SimNetwork::AddNode() {
  const size_t i = nodes_.size();
  ::dht::Config config{};
  config.node_id = ::dht::InfoHash::getRandom();
  config.max_req_per_sec = -1;
  config.max_peer_req_per_sec = -1;
  config.public_stable = true;
  config.max_searches = -1;
  nodes_.push_back(Node{});
  nodes_[i].dht = std::make_unique<::dht::Dht>(
      std::make_unique<Socket>(this, i), config, ::dht::Sp<::dht::Logger>{});
  return i;
}

void SimNetwork::Kill(size_t i) { nodes_[i].alive = false; }

void SimNetwork::Send(size_t from, const ::dht::SockAddr& to,
                      const uint8_t* data, size_t size) {
  ++total_;
  ++by_kind_[KindOf(data, size)];
  const size_t dest = IndexOf(to);
  if (dest == SIZE_MAX || !nodes_[from].alive || !nodes_[dest].alive) return;
  packets_.push(Packet{Clock::now() + latency_, dest, AddressOf(from),
                       std::vector<uint8_t>(data, data + size)});
}

void SimNetwork::Kick(size_t i) {
  if (!nodes_[i].alive) return;
  const auto wake =
      nodes_[i].dht->periodic(nullptr, 0, ::dht::SockAddr{}, Clock::now());
  nodes_[i].wake = wake;
  if (wake != Clock::time_point::max()) wakes_.emplace(wake, i);
}

void SimNetwork::Deliver(const Packet& p, Clock::time_point now) {
  Node& node = nodes_[p.to];
  if (!node.alive) return;
  const auto wake =
      node.dht->periodic(p.data.data(), p.data.size(), p.from, now);
  node.wake = wake;
  if (wake != Clock::time_point::max()) wakes_.emplace(wake, p.to);
}

void SimNetwork::Run(std::chrono::milliseconds d,
                     const std::function<bool()>& done) {
  const auto end = Clock::now() + d;
  for (;;) {
    const auto now = Clock::now();
    if (now >= end || (done && done())) return;
    bool worked = false;
    while (!timers_.empty() && timers_.begin()->first <= now) {
      auto action = std::move(timers_.begin()->second);
      timers_.erase(timers_.begin());
      action();
      worked = true;
    }
    while (!deferred_.empty()) {
      auto actions = std::move(deferred_);
      deferred_.clear();
      for (auto& action : actions) action();
      worked = true;
    }
    while (!packets_.empty() && packets_.top().at <= now) {
      Packet p = packets_.top();
      packets_.pop();
      Deliver(p, now);
      worked = true;
    }
    while (!wakes_.empty() && wakes_.top().first <= now) {
      const auto [at, i] = wakes_.top();
      wakes_.pop();
      if (nodes_[i].wake != at) continue;  // superseded by a later wake
      Kick(i);
      worked = true;
    }
    if (worked) continue;
    auto next = end;
    if (!packets_.empty()) next = std::min(next, packets_.top().at);
    if (!wakes_.empty()) next = std::min(next, wakes_.top().first);
    if (!timers_.empty()) next = std::min(next, timers_.begin()->first);
    const auto pause = std::min<Clock::duration>(next - now,
                                                 std::chrono::milliseconds(2));
    if (pause > Clock::duration::zero()) std::this_thread::sleep_for(pause);
  }
}

void SimNetwork::ResetCounts() {
  total_ = 0;
  by_kind_.clear();
}

void SimNetwork::CountExtra(const std::string& kind, uint64_t n) {
  total_ += n;
  by_kind_[kind] += n;
}

}  // namespace crsp::scalesim
