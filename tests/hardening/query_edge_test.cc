// Queries at the edges of their fields against a real node: each is
// answered (never hangs the node) and the node keeps answering after.
#include <gtest/gtest.h>

#include <variant>

#include "node_harness.h"

namespace crsp::testing {
namespace {

using wire::Status;

// Found by bench/hardening/soak_bench: max price 0 made the node's bucket
// search loop forever (node/src/lib/query.cc BucketTop), a one-datagram
// denial of service.
TEST(QueryEdges, ExtremeMaxPricesAreAnsweredAndTheNodeStaysUp) {
  TempDir dir;
  auto node = StartNode(dir.path() + "/node");
  ASSERT_NE(node, nullptr);
  UdpClient client(node->edge_port());
  auto reg = Ask(client, Register(Device(41),
                                  {Entry(wire::kResourceCpu, 0),
                                   Entry(wire::kResourceVideo, 5)},
                                  1));
  ASSERT_TRUE(reg);
  ASSERT_EQ(reg->packet.header.status, Status::kOk);
  uint32_t txid = 10;
  for (uint32_t max_price :
       {0u, 1u, 15u, 16u, 0x7FFFFFFFu, 0xFFFFFFFEu, 0xFFFFFFFFu}) {
    SCOPED_TRACE(max_price);
    protocol::QueryEntry e;
    e.resource = wire::kResourceCpu;
    e.max_price = max_price;
    auto answer = Ask(client, Query({e}, ++txid));
    ASSERT_TRUE(answer) << "no answer to a query with this max price";
    EXPECT_EQ(answer->packet.header.status, Status::kOk);
    const auto* body = std::get_if<protocol::QueryAnswer>(&answer->packet.body);
    ASSERT_NE(body, nullptr);
    ASSERT_EQ(body->offers.size(), 1u);  // the price-0 offer matches all
    EXPECT_EQ(body->offers[0].price, 0u);
  }
  auto ping = Ask(client, Ping(99));
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->packet.header.status, Status::kOk);
}

}  // namespace
}  // namespace crsp::testing
