// The real crsp-node binary over real UDP on [::1]. Each test starts its
// own node(s) on fresh ports in a temporary state directory; the process is
// killed by pid when the test ends, whatever happens.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "crsp/protocol/check.h"
#include "node_harness.h"

namespace crsp::testing {
namespace {

using protocol::DecodeResult;
using wire::CheckType;
using wire::Status;

constexpr auto kPropagation = std::chrono::seconds(5);

std::vector<std::byte> FromHex(const std::string& hex) {
  std::vector<std::byte> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(
        static_cast<std::byte>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// name -> hex of every vector in the shared file. The file is flat JSON;
// a regex over it is enough here.
std::map<std::string, std::string> LoadVectors() {
  std::ifstream in(CRSP_VECTORS_JSON);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  std::map<std::string, std::string> out;
  std::regex pair(
      "\"name\":\\s*\"([a-z0-9_]+)\",\\s*\"hex\":\\s*\"([0-9a-f]*)\"");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), pair);
       it != std::sregex_iterator(); ++it) {
    out[(*it)[1]] = (*it)[2];
  }
  return out;
}

const protocol::QueryAnswer* QueryBody(const DecodeResult& r) {
  return std::get_if<protocol::QueryAnswer>(&r.packet.body);
}

// Polls QueryAll until `pred` holds on the offers, within `within`.
template <typename Pred>
bool Eventually(UdpClient& client, uint16_t resource, Pred pred,
                std::chrono::milliseconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  for (int i = 0; i < 200; ++i) {
    auto offers = QueryAll(client, resource);
    if (offers && pred(*offers)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

class DaemonTest : public ::testing::Test {
 protected:
  std::string StateDir(const std::string& name) {
    return dir_.path() + "/" + name;
  }
  TempDir dir_;
};

TEST_F(DaemonTest, LoneNodeAnswersPingWithItsKeyAndNoHang) {
  auto node = StartNode(StateDir("a"));
  ASSERT_NE(node, nullptr);
  UdpClient client(node->edge_port());
  auto answer = Ask(client, Ping(5));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->packet.header.status, Status::kOk);
  EXPECT_EQ(answer->packet.header.txid, 5u);
  EXPECT_EQ(answer->packet.header.check, CheckType::kCrc32);
  const auto* ping = std::get_if<protocol::PingAnswer>(&answer->packet.body);
  ASSERT_NE(ping, nullptr);
  EXPECT_NE(ping->public_key, protocol::PublicKey{});
  EXPECT_EQ(ping->offers, 0u);
}

// Many requests in one burst reach the node's receive batch together, and
// their answers leave together (sendmmsg): every one must come back, once,
// to its own transaction id.
TEST_F(DaemonTest, BurstOfRequestsGetsEveryAnswerOnce) {
  auto node = StartNode(StateDir("a"));
  ASSERT_NE(node, nullptr);
  UdpClient client(node->edge_port());
  ASSERT_TRUE(Ask(client, Ping(1)));  // up and answering
  constexpr uint32_t kBurst = 200;
  for (uint32_t txid = 100; txid < 100 + kBurst; ++txid) {
    client.Send(protocol::Encode(Ping(txid)));
  }
  std::multiset<uint32_t> answered;
  for (uint32_t i = 0; i < kBurst + 10; ++i) {  // a few more, to see extras
    auto bytes = client.Receive(
        std::chrono::milliseconds(answered.size() < kBurst ? 3000 : 200));
    if (!bytes) break;
    auto answer = protocol::Decode(*bytes);
    ASSERT_EQ(answer.status, Status::kOk) << answer.detail;
    EXPECT_EQ(answer.packet.header.status, Status::kOk);
    answered.insert(answer.packet.header.txid);
  }
  ASSERT_EQ(answered.size(), kBurst) << node->Log();
  for (uint32_t txid = 100; txid < 100 + kBurst; ++txid) {
    EXPECT_EQ(answered.count(txid), 1u) << txid;
  }
}

TEST_F(DaemonTest, LoneNodeStoresAndServesAnOfferWithOneReplica) {
  auto node = StartNode(StateDir("a"));
  ASSERT_NE(node, nullptr);
  UdpClient client(node->edge_port());
  auto reg =
      Ask(client, Register(Device(1), {Entry(wire::kResourceCpu, 250)}, 100));
  ASSERT_TRUE(reg);
  ASSERT_EQ(reg->packet.header.status, Status::kOk) << node->Log();
  const auto* body = std::get_if<protocol::RegisterAnswer>(&reg->packet.body);
  ASSERT_NE(body, nullptr);
  ASSERT_EQ(body->entries.size(), 1u);
  EXPECT_EQ(body->entries[0].status, Status::kOk);
  EXPECT_GE(body->entries[0].replicas, 1u);

  auto offers = QueryAll(client, wire::kResourceCpu);
  ASSERT_TRUE(offers);
  ASSERT_EQ(offers->size(), 1u);
  EXPECT_EQ((*offers)[0].device, Device(1));
  EXPECT_EQ((*offers)[0].price, 250u);
  EXPECT_EQ((*offers)[0].currency, 156u);
  // Contact all zero: the request's source address, ::1.
  protocol::Ipv6Address loopback{};
  loopback[15] = 1;
  EXPECT_EQ((*offers)[0].contact, loopback);
}

TEST_F(DaemonTest, EveryCheckTypeIsAnsweredUnderTheSameCheckType) {
  auto node = StartNode(StateDir("a"));
  ASSERT_NE(node, nullptr);
  UdpClient client(node->edge_port());
  for (uint8_t c = 0; c <= 6; ++c) {
    auto check = static_cast<CheckType>(c);
    auto answer = Ask(client, Ping(10 + c, check));
    ASSERT_TRUE(answer) << "check type " << int(c);
    EXPECT_EQ(answer->packet.header.status, Status::kOk);
    EXPECT_EQ(answer->packet.header.check, check);
    EXPECT_TRUE(answer->check_ok);
  }
}

TEST_F(DaemonTest, SignedRequestGetsAnAnswerSignedByTheNodeKey) {
  auto node = StartNode(StateDir("a"));
  ASSERT_NE(node, nullptr);
  UdpClient client(node->edge_port());
  auto ping = Ask(client, Ping(1));
  ASSERT_TRUE(ping);
  auto node_key = std::get<protocol::PingAnswer>(ping->packet.body).public_key;

  auto seller = protocol::Ed25519Key::Generate();
  ASSERT_TRUE(seller);
  auto reg = Ask(client,
                 Register(Device(2), {Entry(wire::kResourceMemory, 12)},
                          static_cast<uint32_t>(support::UnixSeconds()),
                          CheckType::kEd25519),
                 &*seller);
  ASSERT_TRUE(reg);
  EXPECT_EQ(reg->packet.header.status, Status::kOk) << node->Log();
  EXPECT_EQ(reg->packet.header.check, CheckType::kEd25519);
  ASSERT_TRUE(reg->signer);
  EXPECT_EQ(*reg->signer, node_key);

  auto offers = QueryAll(client, wire::kResourceMemory);
  ASSERT_TRUE(offers);
  ASSERT_EQ(offers->size(), 1u);
  EXPECT_EQ((*offers)[0].flags & wire::kOfferFlagSigned,
            wire::kOfferFlagSigned);
}

TEST_F(DaemonTest, BadVectorsGetTheStatusTheSpecNames) {
  auto node = StartNode(StateDir("a"));
  ASSERT_NE(node, nullptr);
  UdpClient client(node->edge_port());
  auto vectors = LoadVectors();
  ASSERT_FALSE(vectors.empty()) << "cannot read " << CRSP_VECTORS_JSON;
  const std::map<std::string, Status> expected = {
      {"bad_check", Status::kBadCheck},
      {"truncated", Status::kMalformed},
      {"version2", Status::kUnsupportedVersion},
      {"check_type9", Status::kUnsupportedCheck},
      {"validity_reversed", Status::kInvalidField},
      {"validity_past", Status::kInvalidField},
      {"zero_quantity", Status::kInvalidField},
      {"bad_signature", Status::kBadCheck},
      // Inside January 2026: in the past for a live node.
      {"register_check5", Status::kInvalidField},
  };
  for (const auto& [name, status] : expected) {
    ASSERT_TRUE(vectors.count(name)) << name;
    client.Send(FromHex(vectors[name]));
    auto answer = client.Receive(std::chrono::seconds(3));
    ASSERT_TRUE(answer) << name;
    DecodeResult r = protocol::Decode(*answer);
    EXPECT_EQ(r.packet.header.status, status) << name;
    EXPECT_LE(answer->size(), wire::kMaxAnswer) << name;
  }
  // No answer at all: too short to carry a transaction id, or an answer.
  for (const char* name : {"too_short", "register_answer", "query_answer"}) {
    client.Send(FromHex(vectors[name]));
    EXPECT_FALSE(client.Receive(std::chrono::milliseconds(300))) << name;
  }
  // And the node is still there.
  EXPECT_TRUE(Ask(client, Ping(99)));
}

TEST_F(DaemonTest, QueryPagesThroughMoreOffersThanOneAnswerHolds) {
  auto node = StartNode(StateDir("a"));
  ASSERT_NE(node, nullptr);
  UdpClient client(node->edge_port());
  constexpr int kOffers = 40;
  for (int i = 0; i < kOffers; ++i) {
    auto reg = Ask(
        client,
        Register(Device(static_cast<uint8_t>(i)),
                 {Entry(wire::kResourcePrint, static_cast<uint32_t>(1000 - i))},
                 static_cast<uint32_t>(200 + i)));
    ASSERT_TRUE(reg);
    ASSERT_EQ(reg->packet.header.status, Status::kOk);
  }
  protocol::QueryEntry entry;
  entry.resource = wire::kResourcePrint;
  auto first = Ask(client, Query({entry}, 1));
  ASSERT_TRUE(first);
  ASSERT_NE(QueryBody(*first), nullptr);
  EXPECT_EQ(QueryBody(*first)->total, static_cast<uint32_t>(kOffers));
  EXPECT_LT(QueryBody(*first)->offers.size(), static_cast<size_t>(kOffers));
  EXPECT_NE(QueryBody(*first)->next_cursor, 0u);

  auto all = QueryAll(client, wire::kResourcePrint);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), static_cast<size_t>(kOffers));
  EXPECT_TRUE(std::is_sorted(
      all->begin(), all->end(),
      [](const auto& a, const auto& b) { return a.price < b.price; }));
  std::set<protocol::DeviceId> devices;
  for (const auto& o : *all) devices.insert(o.device);
  EXPECT_EQ(devices.size(), static_cast<size_t>(kOffers));
}

TEST_F(DaemonTest, WithdrawnOfferIsNoLongerServed) {
  auto node = StartNode(StateDir("a"));
  ASSERT_NE(node, nullptr);
  UdpClient client(node->edge_port());
  auto reg = Ask(client, Register(Device(3),
                                  {Entry(wire::kResourceCpu, 100),
                                   Entry(wire::kResourceVideo, 100)},
                                  300));
  ASSERT_TRUE(reg);
  ASSERT_EQ(reg->packet.header.status, Status::kOk);
  auto wd = Ask(client, Withdraw(Device(3), {wire::kResourceCpu}, 301));
  ASSERT_TRUE(wd);
  EXPECT_EQ(wd->packet.header.status, Status::kOk);
  auto cpu = QueryAll(client, wire::kResourceCpu);
  ASSERT_TRUE(cpu);
  EXPECT_TRUE(cpu->empty());
  auto video = QueryAll(client, wire::kResourceVideo);
  ASSERT_TRUE(video);
  EXPECT_EQ(video->size(), 1u);
  auto again = Ask(client, Withdraw(Device(3), {wire::kResourceCpu}, 302));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->packet.header.status, Status::kNotFound);
}

TEST_F(DaemonTest, OfferIsNeverServedAfterValidUntil) {
  auto node = StartNode(StateDir("a"));
  ASSERT_NE(node, nullptr);
  UdpClient client(node->edge_port());
  uint64_t now = support::UnixSeconds();
  auto reg =
      Ask(client,
          Register(Device(4),
                   {Entry(wire::kResourceTaxiRide, 50, 1, now - 10, now + 3)},
                   400));
  ASSERT_TRUE(reg);
  ASSERT_EQ(reg->packet.header.status, Status::kOk);
  auto before = QueryAll(client, wire::kResourceTaxiRide);
  ASSERT_TRUE(before);
  EXPECT_EQ(before->size(), 1u);
  // Past valid until (plus a second of clock granularity).
  while (support::UnixSeconds() <= now + 4) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  auto after = QueryAll(client, wire::kResourceTaxiRide);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty());
}

TEST_F(DaemonTest, SigtermStopsWithinTenSecondsAndRestartKeepsOffersAndKey) {
  const std::string state = StateDir("a");
  auto node = StartNode(state);
  ASSERT_NE(node, nullptr);
  const uint16_t edge = node->edge_port();
  const uint16_t dht = node->dht_port();
  protocol::PublicKey key{};
  {
    UdpClient client(edge);
    auto ping = Ask(client, Ping(1));
    ASSERT_TRUE(ping);
    key = std::get<protocol::PingAnswer>(ping->packet.body).public_key;
    auto reg =
        Ask(client, Register(Device(5), {Entry(wire::kResourceCpu, 7)}, 500));
    ASSERT_TRUE(reg);
    ASSERT_EQ(reg->packet.header.status, Status::kOk);
  }
  auto status = node->Stop(SIGTERM, std::chrono::seconds(10));
  ASSERT_TRUE(status) << "did not stop within 10 s\n" << node->Log();
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);

  auto again = StartNode(state, {}, {}, edge, dht);
  ASSERT_NE(again, nullptr);
  UdpClient client(edge);
  auto ping = Ask(client, Ping(2));
  ASSERT_TRUE(ping);
  EXPECT_EQ(std::get<protocol::PingAnswer>(ping->packet.body).public_key, key);
  auto offers = QueryAll(client, wire::kResourceCpu);
  ASSERT_TRUE(offers);
  ASSERT_EQ(offers->size(), 1u);
  EXPECT_EQ((*offers)[0].device, Device(5));
}

TEST_F(DaemonTest, SigkillLosesNoAcknowledgedOffer) {
  const std::string state = StateDir("a");
  auto node = StartNode(state);
  ASSERT_NE(node, nullptr);
  const uint16_t edge = node->edge_port();
  constexpr int kOffers = 20;
  {
    UdpClient client(edge);
    for (int i = 0; i < kOffers; ++i) {
      auto reg = Ask(client, Register(Device(static_cast<uint8_t>(50 + i)),
                                      {Entry(wire::kResourceStorage, 10)},
                                      static_cast<uint32_t>(600 + i)));
      ASSERT_TRUE(reg);
      ASSERT_EQ(reg->packet.header.status, Status::kOk);
    }
  }
  // Killed right after the last OK: nothing acknowledged may be lost.
  ASSERT_TRUE(node->Stop(SIGKILL, std::chrono::seconds(5)));
  auto again = StartNode(state, {}, {}, edge);
  ASSERT_NE(again, nullptr);
  UdpClient client(edge);
  auto offers = QueryAll(client, wire::kResourceStorage);
  ASSERT_TRUE(offers);
  EXPECT_EQ(offers->size(), static_cast<size_t>(kOffers));
}

TEST_F(DaemonTest, OfferRegisteredAtOneNodeIsServedByAnotherAndWithdrawn) {
  auto a = StartNode(StateDir("a"));
  ASSERT_NE(a, nullptr);
  auto b = StartNode(StateDir("b"), {a->dht_endpoint()});
  ASSERT_NE(b, nullptr);
  UdpClient at_a(a->edge_port());
  UdpClient at_b(b->edge_port());

  auto reg = Ask(
      at_a, Register(Device(6), {Entry(wire::kResourceCarRental, 9000)}, 700));
  ASSERT_TRUE(reg);
  ASSERT_EQ(reg->packet.header.status, Status::kOk) << a->Log();
  EXPECT_TRUE(Eventually(
      at_b, wire::kResourceCarRental,
      [](const auto& offers) {
        return offers.size() == 1 && offers[0].device == Device(6) &&
               offers[0].price == 9000u;
      },
      kPropagation))
      << b->Log();

  auto wd = Ask(at_a, Withdraw(Device(6), {}, 701));
  ASSERT_TRUE(wd);
  EXPECT_EQ(wd->packet.header.status, Status::kOk);
  EXPECT_TRUE(Eventually(
      at_b, wire::kResourceCarRental,
      [](const auto& offers) { return offers.empty(); }, kPropagation))
      << b->Log();
}

TEST_F(DaemonTest, UnsignedOfferCannotBeChangedFromAnotherAddress) {
  // Dual stack: 127.0.0.1 arrives as ::ffff:127.0.0.1, another owner.
  auto node =
      StartNode(StateDir("a"), {}, {"--log-level", "debug"}, 0, 0, "::");
  ASSERT_NE(node, nullptr);
  UdpClient owner(node->edge_port());
  UdpClient other(node->edge_port(), /*ipv4=*/true);
  auto reg =
      Ask(owner, Register(Device(7), {Entry(wire::kResourceCpu, 1)}, 800));
  ASSERT_TRUE(reg);
  ASSERT_EQ(reg->packet.header.status, Status::kOk);
  auto replace =
      Ask(other, Register(Device(7), {Entry(wire::kResourceCpu, 2)}, 801));
  ASSERT_TRUE(replace);
  EXPECT_EQ(replace->packet.header.status, Status::kNotAuthorized)
      << node->Log();
  auto withdraw = Ask(other, Withdraw(Device(7), {}, 802));
  ASSERT_TRUE(withdraw);
  EXPECT_EQ(withdraw->packet.header.status, Status::kNotAuthorized);
  auto offers = QueryAll(owner, wire::kResourceCpu);
  ASSERT_TRUE(offers);
  ASSERT_EQ(offers->size(), 1u);
  EXPECT_EQ((*offers)[0].price, 1u);
}

// A device id switches between unsigned and signed once its owner's offers
// are withdrawn (PROTOCOL.md "Ownership"), both ways, and every answer is
// OK: the signed txid is far below the unsigned clock versions, which the
// stores of every replica must not hold against it (docs/storage.md
// "Versions and owners"). `via` is the node the later writes go through:
// the same one, or another that learnt the earlier ones through the DHT.
void SwitchOwnersBothWays(UdpClient& first, UdpClient& via,
                          const protocol::DeviceId& device, uint16_t resource,
                          NodeProcess& log_of) {
  auto seller = protocol::Ed25519Key::Generate();
  ASSERT_TRUE(seller);
  const uint32_t t = static_cast<uint32_t>(support::UnixSeconds());
  auto status = [&](UdpClient& c, const protocol::Packet& p,
                    const protocol::Ed25519Key* key = nullptr) {
    auto answer = Ask(c, p, key);
    return answer ? answer->packet.header.status : Status::kInternal;
  };
  auto served = [&](UdpClient& c, uint32_t price, bool is_signed) {
    return Eventually(
        c, resource,
        [&](const auto& offers) {
          return offers.size() == 1 && offers[0].price == price &&
                 ((offers[0].flags & wire::kOfferFlagSigned) != 0) == is_signed;
        },
        kPropagation);
  };
  ASSERT_EQ(status(first, Register(device, {Entry(resource, 10)}, 1)),
            Status::kOk);
  ASSERT_TRUE(served(via, 10, false)) << log_of.Log();
  ASSERT_EQ(status(via, Withdraw(device, {}, 2)), Status::kOk) << log_of.Log();
  // Unsigned -> signed.
  EXPECT_EQ(
      status(via,
             Register(device, {Entry(resource, 20)}, t, CheckType::kEd25519),
             &*seller),
      Status::kOk)
      << log_of.Log();
  EXPECT_TRUE(served(first, 20, true));
  EXPECT_TRUE(served(via, 20, true));
  EXPECT_EQ(
      status(first, Withdraw(device, {}, t + 1, CheckType::kEd25519), &*seller),
      Status::kOk)
      << log_of.Log();
  EXPECT_TRUE(Eventually(
      via, resource, [](const auto& offers) { return offers.empty(); },
      kPropagation));
  // Signed -> unsigned.
  EXPECT_EQ(status(via, Register(device, {Entry(resource, 30)}, 3)),
            Status::kOk)
      << log_of.Log();
  EXPECT_TRUE(served(first, 30, false));
  EXPECT_TRUE(served(via, 30, false));
}

TEST_F(DaemonTest, ADeviceSwitchesBetweenUnsignedAndSignedThroughOneNode) {
  auto node = StartNode(StateDir("a"));
  ASSERT_NE(node, nullptr);
  UdpClient client(node->edge_port());
  SwitchOwnersBothWays(client, client, Device(8), wire::kResourceVideo, *node);
}

TEST_F(DaemonTest, ADeviceSwitchesBetweenUnsignedAndSignedThroughTwoNodes) {
  auto a = StartNode(StateDir("a"));
  ASSERT_NE(a, nullptr);
  auto b = StartNode(StateDir("b"), {a->dht_endpoint()});
  ASSERT_NE(b, nullptr);
  UdpClient at_a(a->edge_port());
  UdpClient at_b(b->edge_port());
  SwitchOwnersBothWays(at_a, at_b, Device(9), wire::kResourceSoftware, *b);
}

// What a short run of crsp-node (one that exits by itself) printed and
// its exit status; the process is killed by pid if it outlives `within`.
struct ShortRun {
  int exit_code = -1;  // -1: it had to be killed
  std::string output;  // stdout and stderr
};

ShortRun RunNodeBinary(
    const std::vector<std::string>& flags, const std::string& dir,
    std::chrono::milliseconds within = std::chrono::seconds(10)) {
  std::vector<std::string> args = {CRSP_NODE_BINARY};
  args.insert(args.end(), flags.begin(), flags.end());
  static int runs = 0;  // a log of its own for each run
  const std::string log = dir + "/run" + std::to_string(++runs) + ".log";
  const pid_t pid = Spawn(args, log);
  ShortRun run;
  if (pid < 0) return run;
  const auto deadline = std::chrono::steady_clock::now() + within;
  int status = 0;
  for (int i = 0; i < 1000; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  run.output = text.str();
  return run;
}

TEST_F(DaemonTest, VersionPrintsTheProjectVersionAndCommit) {
  ShortRun run = RunNodeBinary({"--version"}, dir_.path());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(std::regex_search(
      run.output, std::regex("^crsp-node [0-9]+\\.[0-9]+\\.[0-9]+ \\(git "
                             "([0-9a-f]{7,}|unknown)\\)\n$")))
      << run.output;
}

TEST_F(DaemonTest, CheckConfigValidatesAFileAndExits) {
  const std::string good = dir_.path() + "/good.toml";
  std::ofstream(good) << "dht_port = 4300\n[limits]\nmax_offers = 10\n";
  ShortRun run = RunNodeBinary({"--check-config", good}, dir_.path());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, good + ": ok\n");

  const std::string bad = dir_.path() + "/bad.toml";
  std::ofstream(bad) << "dht_port = 70000\n";
  run = RunNodeBinary({"--check-config", bad}, dir_.path());
  EXPECT_EQ(run.exit_code, 64) << run.output;
  EXPECT_EQ(run.output, "crsp-node: " + bad +
                            ":1: dht_port: 70000 is out of range 0..65535\n");
}

// A bad or unknown setting in --config stops the node before it binds or
// writes anything.
TEST_F(DaemonTest, NodeDoesNotStartOnABadConfigFile) {
  for (const char* toml :
       {"[limits]\nanswer_bytes_per_sec = -1\n", "dht_prot = 4300\n"}) {
    const std::string path = dir_.path() + "/node.toml";
    std::ofstream(path) << toml;
    const std::string state = dir_.path() + "/state";
    ShortRun run = RunNodeBinary(
        {"--config", path, "--state-dir", state, "--listen",
         "[::1]:" + std::to_string(FreeUdpPort()), "--dht-port", "0"},
        dir_.path());
    EXPECT_EQ(run.exit_code, 64) << toml << run.output;
    EXPECT_NE(run.output.find(path + ":"), std::string::npos) << run.output;
    EXPECT_FALSE(std::filesystem::exists(state)) << toml;
  }
}

}  // namespace
}  // namespace crsp::testing
