// Node endpoints as `crsp` reads them: the literal forms of
// crsp::support (crsp/support/endpoint.h) plus host names, resolved here.
#ifndef CRSP_CLI_ADDRESS_H_
#define CRSP_CLI_ADDRESS_H_

#include <cstdint>
#include <string_view>

#include "crsp/support/endpoint.h"
#include "crsp/support/status.h"

namespace crsp::cli {

using Endpoint = support::Endpoint;

// "[2001:db8::1]:7400", "[::1]" (default port), "2001:db8::1" (a bare
// IPv6 literal, default port), "192.0.2.1:7400", "host:7400", "host".
// Host names resolve through getaddrinfo (IPv6, or IPv4 as v4-mapped).
// InvalidArgument when the text does not parse or resolve.
support::Result<Endpoint> ParseEndpoint(std::string_view text,
                                        uint16_t default_port);

}  // namespace crsp::cli

#endif  // CRSP_CLI_ADDRESS_H_
