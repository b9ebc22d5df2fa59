// The unit of abuse accounting (PROTOCOL.md "Abuse"): a source's /64, or
// its /24 for IPv4 sources (IPv4-mapped IPv6 addresses).
#ifndef CRSP_NODE_SOURCE_PREFIX_H_
#define CRSP_NODE_SOURCE_PREFIX_H_

#include <string>

#include "crsp/protocol/packets.h"

namespace crsp::node {

// `address` with every bit past its prefix cleared.
protocol::Ipv6Address SourcePrefix(const protocol::Ipv6Address& address);

bool IsIpv4Mapped(const protocol::Ipv6Address& address);

// Printable form for logs: "192.0.2.1" or "2001:db8::1".
std::string AddressString(const protocol::Ipv6Address& address);

}  // namespace crsp::node

#endif  // CRSP_NODE_SOURCE_PREFIX_H_
