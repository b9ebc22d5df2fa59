#include "address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace crsp::cli {
namespace {

std::optional<uint16_t> ParsePort(std::string_view s) {
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v == 0 || v > 0xFFFF) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(v);
}

// Splits "host:port" / "[v6]:port" / "host" / "v6" into host and port text.
bool Split(std::string_view text, std::string_view* host,
           std::string_view* port) {
  *port = {};
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    *host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return true;
    if (!rest.starts_with(':')) return false;
    *port = rest.substr(1);
    return true;
  }
  size_t first = text.find(':');
  if (first != std::string_view::npos &&
      text.find(':', first + 1) == std::string_view::npos) {
    *host = text.substr(0, first);
    *port = text.substr(first + 1);
    return true;
  }
  *host = text;  // no colon, or a bare IPv6 literal
  return true;
}

}  // namespace

std::string Ipv6ToText(const protocol::Ipv6Address& addr) {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, addr.data(), buf, sizeof buf) == nullptr) return "";
  return buf;
}

std::optional<protocol::Ipv6Address> Ipv6FromText(std::string_view text) {
  std::string s(text);
  protocol::Ipv6Address out{};
  if (inet_pton(AF_INET6, s.c_str(), out.data()) == 1) return out;
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out.fill(0);
    out[10] = 0xFF;
    out[11] = 0xFF;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  return std::nullopt;
}

std::optional<Endpoint> ParseEndpointLiteral(std::string_view text,
                                             uint16_t default_port) {
  std::string_view host, port_text;
  if (!Split(text, &host, &port_text)) return std::nullopt;
  Endpoint ep;
  ep.port = default_port;
  if (!port_text.empty()) {
    auto port = ParsePort(port_text);
    if (!port) return std::nullopt;
    ep.port = *port;
  }
  auto addr = Ipv6FromText(host);
  if (!addr) return std::nullopt;
  ep.address = *addr;
  return ep;
}

std::optional<Endpoint> ParseEndpoint(std::string_view text,
                                      uint16_t default_port,
                                      std::string* error) {
  std::string_view host, port_text;
  if (text.empty() || !Split(text, &host, &port_text) || host.empty()) {
    *error = "cannot read node address '" + std::string(text) +
             "' (use [IPv6]:port or host:port)";
    return std::nullopt;
  }
  Endpoint ep;
  ep.port = default_port;
  if (!port_text.empty()) {
    auto port = ParsePort(port_text);
    if (!port) {
      *error = "bad port in '" + std::string(text) + "'";
      return std::nullopt;
    }
    ep.port = *port;
  }
  if (auto addr = Ipv6FromText(host)) {
    ep.address = *addr;
    return ep;
  }
  addrinfo hints{};
  hints.ai_family = AF_INET6;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_V4MAPPED | AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  std::string host_str(host);
  int rc = getaddrinfo(host_str.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr) {
    *error = "cannot resolve node '" + host_str + "': " + gai_strerror(rc);
    return std::nullopt;
  }
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(res->ai_addr);
  std::memcpy(ep.address.data(), &sin6->sin6_addr, 16);
  freeaddrinfo(res);
  return ep;
}

std::string EndpointToText(const Endpoint& endpoint) {
  return "[" + Ipv6ToText(endpoint.address) +
         "]:" + std::to_string(endpoint.port);
}

}  // namespace crsp::cli
