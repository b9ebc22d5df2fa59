#include "address.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

namespace crsp::cli {

support::Result<Endpoint> ParseEndpoint(std::string_view text,
                                        uint16_t default_port) {
  support::Result<support::HostPort> parts = support::SplitHostPort(text);
  if (text.empty() || !parts || parts->host.empty()) {
    return support::Status::InvalidArgument("cannot read node address '" +
                                            std::string(text) +
                                            "' (use [IPv6]:port or host:port)");
  }
  Endpoint ep;
  ep.port = default_port;
  if (!parts->port.empty()) {
    std::optional<uint16_t> port =
        support::ParsePort(parts->port, /*allow_zero=*/false);
    if (!port) {
      return support::Status::InvalidArgument("bad port in '" +
                                              std::string(text) + "'");
    }
    ep.port = *port;
  }
  if (std::optional<support::Ipv6Bytes> addr =
          support::ParseIpLiteral(parts->host)) {
    ep.address = *addr;
    return ep;
  }
  addrinfo hints{};
  hints.ai_family = AF_INET6;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_V4MAPPED | AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  const std::string host(parts->host);
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr) {
    return support::Status::InvalidArgument("cannot resolve node '" + host +
                                            "': " + gai_strerror(rc));
  }
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(res->ai_addr);
  std::memcpy(ep.address.data(), &sin6->sin6_addr, 16);
  freeaddrinfo(res);
  return ep;
}

}  // namespace crsp::cli
