// Interop with Debian's stock `dhtnode`: it is the bootstrap node and a
// member of the cluster. crsp nodes join through it, and its own storage
// (`ld`) holds the offer values they put, under the documented key.
#include <gnutls/crypto.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <regex>

#include "cluster_test_util.h"
#include "crsp/dht_adapter/keys.h"
#include "dhtnode_process.h"

namespace crsp::testing {
namespace {

constexpr uint16_t kResource = 0x8104;

// OpenDHT's InfoHash::get(name): SHA-1 of the name, as 40 hex digits (the
// form `ld` prints).
std::string InfoHashHex(const std::string& name) {
  unsigned char digest[20];
  gnutls_hash_fast(GNUTLS_DIG_SHA1, name.data(), name.size(), digest);
  std::string hex;
  char buf[3];
  for (unsigned char b : digest) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    hex += buf;
  }
  return hex;
}

// The value count `ld` prints for `key_hex` ("Storage KEY 0 list., N values
// (B bytes)"); 0 when the key is not there.
int ValuesUnder(const std::string& dump, const std::string& key_hex) {
  std::smatch m;
  std::regex line("Storage " + key_hex + " [^\n]*?([0-9]+) values");
  if (!std::regex_search(dump, m, line)) return 0;
  return std::stoi(m[1]);
}

TEST(ClusterInterop, StockDhtnodeBootstrapsTheClusterAndStoresOffers) {
  if (access(kDhtnodeBinary, X_OK) != 0) {
    GTEST_SKIP() << kDhtnodeBinary << " missing (Debian package dhtnode)";
  }
  Cluster cluster(CRSP_NODE_BINARY, 4);
  TempDir out;
  auto dhtnode = DhtnodeProcess::Start(cluster.Netns(1), cluster.DhtPort(1),
                                       out.path() + "/dhtnode.out");
  ASSERT_TRUE(dhtnode) << "dhtnode did not start";
  // Hosts 2..4 know only the dhtnode.
  for (int k = 2; k <= 4; ++k) {
    ASSERT_TRUE(cluster.StartNode(k, {cluster.DhtEndpoint(1)})) << k;
  }
  ASSERT_TRUE(cluster.WaitJoined());

  protocol::DeviceId device = DeviceNumber(1, 0x40);
  protocol::ResourceEntry entry = Entry(kResource, 900);
  ASSERT_TRUE(RegisterOk(cluster.Client(2), device, {entry}, 1));
  // Joined through the dhtnode: the other crsp nodes serve it. Each is
  // asked cold, in turn, and given 10 s: the dhtnode drops requests past
  // OpenDHT's default 1,024/s per source IP, and a cold query of a whole
  // resource id sends it up to 2,816 (a listen and a get per key), so some
  // are resent (docs/cluster.md).
  for (int k = 3; k <= 4; ++k) {
    EXPECT_TRUE(PollUntil(
        [&] { return Serves(cluster.Client(k), kResource, device) == true; },
        Clock::now() + std::chrono::seconds(10)))
        << "node " << k;
  }

  protocol::Offer offer;
  offer.device = device;
  offer.resource = kResource;
  offer.price = entry.price;
  std::string key = InfoHashHex(dht::KeyFor(offer));
  std::string dump;
  bool stored = PollUntil(
      [&] {
        dump = dhtnode->Ask("ld", std::chrono::seconds(2));
        return ValuesUnder(dump, key) > 0;
      },
      Clock::now() + std::chrono::seconds(10), std::chrono::milliseconds(200),
      20);
  EXPECT_TRUE(stored) << "no values under " << dht::KeyFor(offer) << " (" << key
                      << ") in the dhtnode's storage:\n"
                      << dump;

  pid_t pid = dhtnode->pid();
  dhtnode.reset();  // SIGKILL by pid, reaped
  EXPECT_NE(kill(pid, 0), 0);
}

}  // namespace
}  // namespace crsp::testing
