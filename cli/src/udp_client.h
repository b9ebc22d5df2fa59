// The CLI's only socket code: request bytes out to one or more nodes,
// answer bytes back, with the spec's resend schedule (same bytes, first
// timeout 500 ms, doubling, 4 tries). It knows nothing of packets: the
// caller's `accept` decides which datagrams answer its request.
#ifndef CRSP_CLI_UDP_CLIENT_H_
#define CRSP_CLI_UDP_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "address.h"

namespace crsp::cli {

struct RetryPolicy {
  int tries = 4;
  std::chrono::milliseconds first_timeout{500};
  // Stop once some endpoint answered and the others had a short grace
  // (as long as the first answer took, at least 20 ms) to answer too:
  // for picking the nearest node without waiting out dead ones.
  bool stop_after_first = false;
};

struct UdpReply {
  std::vector<std::byte> bytes;
  std::chrono::microseconds rtt{0};  // since the last send to that endpoint
};

class UdpClient {
 public:
  using Accept = std::function<bool(std::span<const std::byte>)>;

  // Sends `request` to every endpoint (one connected socket each) and
  // resends to those that have not answered after each timeout. Returns
  // one slot per endpoint: the first accepted datagram, or empty when it
  // did not answer. An endpoint whose port is closed (ICMP port
  // unreachable, seen as ECONNREFUSED) counts as not answering at once.
  static std::vector<std::optional<UdpReply>> Exchange(
      std::span<const Endpoint> endpoints, std::span<const std::byte> request,
      const Accept& accept, const RetryPolicy& policy);
};

}  // namespace crsp::cli

#endif  // CRSP_CLI_UDP_CLIENT_H_
