// crsp/support/endpoint.h: the one reader and writer of "[addr]:port".
#include "crsp/support/endpoint.h"

#include <gtest/gtest.h>

namespace crsp::support {
namespace {

const EndpointRules kPortRequired{};
const EndpointRules kBind{.allow_port_zero = true, .allow_wildcard = true};

TEST(Endpoint, ReadsBracketedIpv6AndIpv4AsMapped) {
  auto v6 = ParseEndpoint("[2001:db8::1]:7400", kPortRequired);
  ASSERT_TRUE(v6) << v6.status().message();
  EXPECT_EQ(FormatEndpoint(*v6), "[2001:db8::1]:7400");
  auto v4 = ParseEndpoint("192.0.2.1:9", kPortRequired);
  ASSERT_TRUE(v4);
  EXPECT_EQ(FormatEndpoint(*v4), "[::ffff:192.0.2.1]:9");
}

TEST(Endpoint, DefaultPortOnlyWhenGiven) {
  EXPECT_FALSE(ParseEndpoint("[::1]", kPortRequired));
  auto ep = ParseEndpoint("[::1]", {.default_port = 7400});
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->port, 7400);
  auto bare = ParseEndpoint("2001:db8::5", {.default_port = 0});
  ASSERT_TRUE(bare);
  EXPECT_EQ(FormatIp(bare->address), "2001:db8::5");
  EXPECT_EQ(bare->port, 0);
}

TEST(Endpoint, PortZeroAndWildcardOnlyToBind) {
  EXPECT_FALSE(ParseEndpoint("[::1]:0", kPortRequired));
  EXPECT_FALSE(ParseEndpoint("*:7400", kPortRequired));
  auto any = ParseEndpoint("*:0", kBind);
  ASSERT_TRUE(any);
  EXPECT_EQ(FormatEndpoint(*any), "[::]:0");
  ASSERT_TRUE(ParseEndpoint(":7400", kBind));
}

TEST(Endpoint, RefusesWhatIsNotAnAddressAndPort) {
  for (const char* bad :
       {"", "[::1", "[::1]x", "[::1]:", "[::1]:65536", "[::1]:-1", "[::1]:+1",
        "[::1]:7400x", "host:7400", "1.2.3.4:", "[1.2.3]:5"}) {
    auto ep = ParseEndpoint(bad, kBind);
    EXPECT_FALSE(ep) << bad;
    if (!ep) {
      EXPECT_EQ(ep.status().code(), Status::Code::kInvalidArgument) << bad;
    }
  }
}

TEST(Endpoint, SplitHostPortKeepsHostNamesForTheCallerToResolve) {
  auto hp = SplitHostPort("node.example:7400");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "node.example");
  EXPECT_EQ(hp->port, "7400");
  hp = SplitHostPort("fd00::1");  // a bare IPv6 literal has no port
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "fd00::1");
  EXPECT_EQ(hp->port, "");
}

TEST(Endpoint, SockaddrRoundTrip) {
  auto ep = ParseEndpoint("[fd00::7]:4222", kPortRequired);
  ASSERT_TRUE(ep);
  sockaddr_in6 sa = ToSockaddr(*ep);
  EXPECT_EQ(sa.sin6_family, AF_INET6);
  EXPECT_EQ(ntohs(sa.sin6_port), 4222);
  EXPECT_EQ(FromSockaddr(sa), *ep);
}

}  // namespace
}  // namespace crsp::support
