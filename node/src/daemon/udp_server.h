// The edge server's socket: receives datagrams in batches (recvmmsg) and
// hands each to a handler with a reply function bound to its source. The
// handler never sees the socket; replies may be sent later from any thread.
// Replies given during the handler call are sent after the batch, together
// (sendmmsg); later ones are sent at once.
#ifndef CRSP_NODE_DAEMON_UDP_SERVER_H_
#define CRSP_NODE_DAEMON_UDP_SERVER_H_

#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "crsp/node/metrics.h"
#include "crsp/node/node.h"
#include "crsp/support/endpoint.h"

namespace crsp::node {

// What --listen accepts: "[v6]:port" or "v4:port" (IPv4 as mapped), a
// port always, port 0 for any, "*:port" or ":port" for "::".
inline constexpr support::EndpointRules kListenRules{
    .default_port = std::nullopt,
    .allow_port_zero = true,
    .allow_wildcard = true,
};

class UdpServer {
 public:
  using Handler = std::function<void(std::span<const std::byte> datagram,
                                     const Sender& from, ReplyFn reply)>;

  // Binds `listen` ("[::]:7400": dual stack). Throws std::runtime_error
  // when the address does not parse or cannot be bound.
  explicit UdpServer(const std::string& listen);
  ~UdpServer();

  uint16_t port() const { return port_; }
  std::string address() const;

  // Tells `metrics` (may be null) of every answer sent (NodeMetrics::
  // Answered). Call before Run; `metrics` must outlive every reply.
  void CountAnswers(NodeMetrics* metrics) { metrics_ = metrics; }

  // Receives until Stop(), calling `handle` for every datagram and `tick`
  // about every `tick_every`.
  void Run(const Handler& handle, const std::function<void()>& tick,
           std::chrono::milliseconds tick_every);
  // Sends `datagram` to `to` from the edge socket (the node's forwarded
  // queries, docs/scaling.md). Safe from any thread; never blocks.
  void SendTo(const Sender& to, std::span<const std::byte> datagram) const;
  // Makes Run return soon. Safe from any thread.
  void Stop() { stop_ = true; }

 private:
  struct Socket;
  std::shared_ptr<Socket> socket_;  // shared with pending ReplyFns
  uint16_t port_ = 0;
  NodeMetrics* metrics_ = nullptr;
  std::atomic<bool> stop_{false};
};

}  // namespace crsp::node

#endif  // CRSP_NODE_DAEMON_UDP_SERVER_H_
