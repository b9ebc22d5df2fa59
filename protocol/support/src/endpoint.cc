#include "crsp/support/endpoint.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace crsp::support {

Result<HostPort> SplitHostPort(std::string_view text) {
  HostPort out;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("'" + std::string(text) +
                                     "' has no closing ']'");
    }
    out.host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return out;
    if (!rest.starts_with(':')) {
      return Status::InvalidArgument("'" + std::string(text) +
                                     "': want ':port' after ']'");
    }
    out.port = rest.substr(1);
    if (out.port.empty()) {
      return Status::InvalidArgument("'" + std::string(text) +
                                     "' has an empty port");
    }
    return out;
  }
  const size_t first = text.find(':');
  if (first != std::string_view::npos &&
      text.find(':', first + 1) == std::string_view::npos) {
    out.host = text.substr(0, first);
    out.port = text.substr(first + 1);
    if (out.port.empty()) {
      return Status::InvalidArgument("'" + std::string(text) +
                                     "' has an empty port");
    }
    return out;
  }
  out.host = text;  // no colon, or a bare IPv6 literal
  return out;
}

std::optional<uint16_t> ParsePort(std::string_view text, bool allow_zero) {
  unsigned v = 0;
  const auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() ||
      v > 0xFFFF || (v == 0 && !allow_zero)) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(v);
}

std::optional<Ipv6Bytes> ParseIpLiteral(std::string_view text) {
  const std::string s(text);
  Ipv6Bytes out{};
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

Result<Endpoint> ParseEndpoint(std::string_view text,
                               const EndpointRules& rules) {
  Result<HostPort> parts = SplitHostPort(text);
  if (!parts) return parts.status();
  Endpoint out;
  if (parts->port.empty()) {
    if (!rules.default_port) {
      return Status::InvalidArgument("'" + std::string(text) +
                                     "' has no port (want [ADDR]:PORT)");
    }
    out.port = *rules.default_port;
  } else {
    std::optional<uint16_t> port =
        ParsePort(parts->port, rules.allow_port_zero);
    if (!port) {
      return Status::InvalidArgument(
          "bad port in '" + std::string(text) + "' (want " +
          (rules.allow_port_zero ? "0" : "1") + "..65535)");
    }
    out.port = *port;
  }
  if (rules.allow_wildcard && (parts->host.empty() || parts->host == "*")) {
    return out;  // "::"
  }
  std::optional<Ipv6Bytes> address = ParseIpLiteral(parts->host);
  if (!address) {
    return Status::InvalidArgument(
        "'" + std::string(parts->host) + "' in '" + std::string(text) +
        "' is not an IP address (want [IPv6]:PORT or IPv4:PORT)");
  }
  out.address = *address;
  return out;
}

std::string FormatIp(const Ipv6Bytes& address) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(AF_INET6, address.data(), buf, sizeof buf) == nullptr) {
    return "";
  }
  return buf;
}

std::string FormatEndpoint(const Endpoint& endpoint) {
  return "[" + FormatIp(endpoint.address) +
         "]:" + std::to_string(endpoint.port);
}

sockaddr_in6 ToSockaddr(const Endpoint& endpoint) {
  sockaddr_in6 out{};
  out.sin6_family = AF_INET6;
  out.sin6_port = htons(endpoint.port);
  std::memcpy(&out.sin6_addr, endpoint.address.data(), 16);
  return out;
}

Endpoint FromSockaddr(const sockaddr_in6& address) {
  Endpoint out;
  std::memcpy(out.address.data(), &address.sin6_addr, 16);
  out.port = ntohs(address.sin6_port);
  return out;
}

}  // namespace crsp::support
