#include "source_prefix.h"

#include <arpa/inet.h>

#include <algorithm>

namespace crsp::node {

bool IsIpv4Mapped(const protocol::Ipv6Address& address) {
  return std::all_of(address.begin(), address.begin() + 10,
                     [](uint8_t b) { return b == 0; }) &&
         address[10] == 0xFF && address[11] == 0xFF;
}

protocol::Ipv6Address SourcePrefix(const protocol::Ipv6Address& address) {
  protocol::Ipv6Address prefix = address;
  // IPv4-mapped: keep the 12-byte mapping prefix and the first 3 bytes of
  // the IPv4 address (/24); IPv6: the first 8 bytes (/64).
  const size_t keep = IsIpv4Mapped(address) ? 15 : 8;
  std::fill(prefix.begin() + keep, prefix.end(), 0);
  return prefix;
}

std::string AddressString(const protocol::Ipv6Address& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (IsIpv4Mapped(address)) {
    inet_ntop(AF_INET, address.data() + 12, text, sizeof text);
  } else {
    inet_ntop(AF_INET6, address.data(), text, sizeof text);
  }
  return text;
}

}  // namespace crsp::node
