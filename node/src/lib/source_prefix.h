// The unit of abuse accounting (PROTOCOL.md "Abuse"): a source's /64, or
// its /24 for IPv4 sources (IPv4-mapped IPv6 addresses).
#ifndef CRSP_NODE_SOURCE_PREFIX_H_
#define CRSP_NODE_SOURCE_PREFIX_H_

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "crsp/protocol/packets.h"

namespace crsp::node {

// `address` with every bit past its prefix cleared.
protocol::Ipv6Address SourcePrefix(const protocol::Ipv6Address& address);

bool IsIpv4Mapped(const protocol::Ipv6Address& address);

// Printable form: "192.0.2.1" or "2001:db8::1".
std::string AddressString(const protocol::Ipv6Address& address);

// An address as a log line's argument: formatted (AddressString) only when
// the line is written, so that a line dropped by the level costs no
// inet_ntop. Such lines run per datagram under load and under floods.
struct LogAddress {
  const protocol::Ipv6Address& address;
};

}  // namespace crsp::node

template <>
struct fmt::formatter<crsp::node::LogAddress>
    : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const crsp::node::LogAddress& a, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(
        crsp::node::AddressString(a.address), ctx);
  }
};

#endif  // CRSP_NODE_SOURCE_PREFIX_H_
