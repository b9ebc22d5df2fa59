// Text forms of IPv6 addresses and node endpoints ("[2001:db8::1]:7400").
// Pure string work plus name resolution: no sockets are opened here.
#ifndef CRSP_CLI_ADDRESS_H_
#define CRSP_CLI_ADDRESS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crsp/protocol/packets.h"

namespace crsp::cli {

// RFC 5952 text (inet_ntop): "2001:db8::1", "::", "::ffff:192.0.2.1".
std::string Ipv6ToText(const protocol::Ipv6Address& addr);
// An IPv6 literal, or an IPv4 dotted quad as a v4-mapped address.
std::optional<protocol::Ipv6Address> Ipv6FromText(std::string_view text);

struct Endpoint {
  protocol::Ipv6Address address{};
  uint16_t port = 0;
};

// "[2001:db8::1]:7400", "[::1]" (default port), "2001:db8::1" (a bare
// IPv6 literal, default port), "192.0.2.1:7400", "host:7400", "host".
// Host names resolve through getaddrinfo (IPv6, or IPv4 as v4-mapped).
// Empty with `error` set when the text does not parse or resolve.
std::optional<Endpoint> ParseEndpoint(std::string_view text,
                                      uint16_t default_port,
                                      std::string* error);
// Like ParseEndpoint but only literals (no name resolution).
std::optional<Endpoint> ParseEndpointLiteral(std::string_view text,
                                             uint16_t default_port);

// "[addr]:port".
std::string EndpointToText(const Endpoint& endpoint);

}  // namespace crsp::cli

#endif  // CRSP_CLI_ADDRESS_H_
