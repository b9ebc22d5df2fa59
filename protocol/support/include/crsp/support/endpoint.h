// Text forms of UDP endpoints, "[2001:db8::1]:7400" with IPv6 literals in
// brackets, as every crsp program reads and prints them (node --listen and
// --bootstrap, crsp --node, the benchmarks). Pure string work: no sockets,
// no name resolution (the CLI resolves host names on top of SplitHostPort).
#ifndef CRSP_SUPPORT_ENDPOINT_H_
#define CRSP_SUPPORT_ENDPOINT_H_

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crsp/support/status.h"

namespace crsp::support {

// An IPv6 address in network order (IPv4 as ::ffff:a.b.c.d).
using Ipv6Bytes = std::array<uint8_t, 16>;

struct Endpoint {
  Ipv6Bytes address{};
  uint16_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// "[v6]:port", "[v6]", "host:port", "host", or a bare IPv6 literal (more
// than one colon, no brackets, no port). `port` is the digits after the
// colon, empty when none were given.
struct HostPort {
  std::string_view host;
  std::string_view port;
};
// InvalidArgument when brackets do not close or text follows "]" other
// than ":port".
Result<HostPort> SplitHostPort(std::string_view text);

// Decimal 0..65535 (0 only when `allow_zero`); nothing else, no sign.
std::optional<uint16_t> ParsePort(std::string_view text, bool allow_zero);

// An IPv6 literal, or an IPv4 dotted quad as a v4-mapped address.
std::optional<Ipv6Bytes> ParseIpLiteral(std::string_view text);

// What a program accepts of an endpoint.
struct EndpointRules {
  // Port when the text has none; without one a port is required.
  std::optional<uint16_t> default_port;
  // Port 0 ("any port", for a socket to bind).
  bool allow_port_zero = false;
  // "*:port" and ":port" as the unspecified address "::" (to bind).
  bool allow_wildcard = false;
};

// An endpoint of literals only; InvalidArgument naming the text otherwise.
Result<Endpoint> ParseEndpoint(std::string_view text,
                               const EndpointRules& rules);

// RFC 5952 text (inet_ntop): "2001:db8::1", "::", "::ffff:192.0.2.1".
std::string FormatIp(const Ipv6Bytes& address);
// "[addr]:port".
std::string FormatEndpoint(const Endpoint& endpoint);

sockaddr_in6 ToSockaddr(const Endpoint& endpoint);
Endpoint FromSockaddr(const sockaddr_in6& address);

}  // namespace crsp::support

#endif  // CRSP_SUPPORT_ENDPOINT_H_
