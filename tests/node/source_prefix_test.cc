// SourcePrefix (the unit of abuse accounting) and how addresses print in
// log lines.
#include "source_prefix.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>

namespace crsp::node {
namespace {

protocol::Ipv6Address Parse(const char* text) {
  protocol::Ipv6Address a{};
  in6_addr raw{};
  EXPECT_EQ(inet_pton(AF_INET6, text, &raw), 1) << text;
  std::memcpy(a.data(), &raw, a.size());
  return a;
}

TEST(SourcePrefix, KeepsTheSlash64OfIpv6AndTheSlash24OfMappedIpv4) {
  EXPECT_EQ(SourcePrefix(Parse("2001:db8:1:2:3:4:5:6")),
            Parse("2001:db8:1:2::"));
  EXPECT_EQ(SourcePrefix(Parse("::ffff:192.0.2.77")),
            Parse("::ffff:192.0.2.0"));
  EXPECT_TRUE(IsIpv4Mapped(Parse("::ffff:192.0.2.77")));
  EXPECT_FALSE(IsIpv4Mapped(Parse("2001:db8::1")));
}

TEST(LogAddress, PrintsAsAddressStringWhenTheLineIsWritten) {
  const protocol::Ipv6Address v6 = Parse("2001:db8::1");
  const protocol::Ipv6Address v4 = Parse("::ffff:192.0.2.1");
  EXPECT_EQ(fmt::format("from {}", LogAddress{v6}), "from 2001:db8::1");
  EXPECT_EQ(fmt::format("from {}", LogAddress{v4}), "from 192.0.2.1");
  EXPECT_EQ(AddressString(v4), "192.0.2.1");
}

}  // namespace
}  // namespace crsp::node
