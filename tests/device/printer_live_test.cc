// End to end: the printer example (device/examples/printer.c) against two
// real crsp-node processes on [::1]. A buyer's `crsp query` on the other
// node sees its print and copy offers; after SIGTERM they are withdrawn.
// Every process started here is killed by pid, also when a test fails.
#include <gtest/gtest.h>
#include <json/json.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>

#include "crsp_device.h"
#include "node_process.h"

namespace {

using crsp::testing::NodeProcess;
using crsp::testing::Spawn;
using crsp::testing::TempDir;
using crsp::testing::UdpClient;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr char kDevice[] = "0123456789abcdef00112233445566d7";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Waits up to `within` for `pid` to exit; its wait status, or nullopt.
std::optional<int> WaitExit(pid_t pid, milliseconds within) {
  auto deadline = steady_clock::now() + within;
  for (int i = 0; i < 10000 && steady_clock::now() < deadline; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return std::nullopt;
}

// A child process killed (SIGKILL) and reaped by pid unless it exited.
struct Child {
  explicit Child(pid_t started) : pid(started) {}
  Child(Child&& other) noexcept : pid(std::exchange(other.pid, -1)) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  pid_t pid;
  ~Child() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

// Good DHT peers of the node at `port`, asked with the device library's own
// ping; -1 when it does not answer.
int PeersOf(uint16_t port) {
  UdpClient client(port);
  uint8_t ping[64];
  size_t n = crsp_encode_ping(ping, sizeof ping, 77, CRSP_CHECK_CRC32, nullptr);
  auto answer =
      client.Exchange(std::as_bytes(std::span(ping, n)), milliseconds(500), 2);
  if (!answer) return -1;
  crsp_answer a{};
  if (crsp_decode_answer(reinterpret_cast<const uint8_t*>(answer->data()),
                         answer->size(), nullptr, &a) != CRSP_OK ||
      a.kind != CRSP_ANSWER_PING) {
    return -1;
  }
  return static_cast<int>(a.ping.peers);
}

class PrinterLive : public ::testing::Test {
 protected:
  void SetUp() override {
    NodeProcess::Options a;
    a.binary = CRSP_NODE_BINARY;
    a.state_dir = dir_.path() + "/a";
    a_ = NodeProcess::Start(a);
    ASSERT_TRUE(a_) << "node a did not start";
    NodeProcess::Options b = a;
    b.state_dir = dir_.path() + "/b";
    b.bootstrap = {a_->dht_endpoint()};
    b_ = NodeProcess::Start(b);
    ASSERT_TRUE(b_) << "node b did not start";
    // Stores are confirmed by the DHT: wait until each node knows a peer.
    auto deadline = steady_clock::now() + std::chrono::seconds(60);
    for (int i = 0; i < 120 && steady_clock::now() < deadline; ++i) {
      if (PeersOf(a_->edge_port()) >= 1 && PeersOf(b_->edge_port()) >= 1) {
        return;
      }
      std::this_thread::sleep_for(milliseconds(500));
    }
    FAIL() << "nodes found no peers:\n" << a_->Log() << "\n---\n" << b_->Log();
  }

  std::string Edge(const NodeProcess& node) const {
    return "[::1]:" + std::to_string(node.edge_port());
  }

  // `crsp --node NODE query print copy --json`, parsed; null on failure.
  // An INCOMPLETE answer (exit 75: the node has not read every key yet)
  // counts only when `exact` is false: it shows offers that arrived, never
  // that one is gone.
  Json::Value Query(const NodeProcess& node, bool exact = false) {
    std::string out = dir_.path() + "/query.json";
    std::remove(out.c_str());
    Child crsp{Spawn(
        {CRSP_BINARY, "--node", Edge(node), "query", "print", "copy", "--json"},
        out)};
    std::optional<int> status = WaitExit(crsp.pid, milliseconds(20000));
    if (!status) return Json::Value();
    crsp.pid = -1;
    const int exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    EXPECT_TRUE(exit_code == 0 || exit_code == 75) << ReadFile(out);
    if (exit_code != 0 && (exact || exit_code != 75)) return Json::Value();
    Json::Value doc;
    Json::CharReaderBuilder builder;
    std::string errors;
    std::istringstream in(ReadFile(out));
    Json::parseFromStream(builder, in, &doc, &errors);
    return doc;
  }

  // Resource ids of kDevice's offers in a query document.
  static std::vector<int> OffersOfPrinter(const Json::Value& doc) {
    std::vector<int> ids;
    for (const auto& o : doc["offers"]) {
      if (o["device_id"].asString() == kDevice) {
        ids.push_back(o["resource_id"].asInt());
      }
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  // Waits up to `within` for `text` in the file at `path`.
  static bool WaitForText(const std::string& path, const std::string& text,
                          milliseconds within) {
    auto deadline = steady_clock::now() + within;
    for (int i = 0; i < 1000 && steady_clock::now() < deadline; ++i) {
      if (ReadFile(path).find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }

  // The printer example on both nodes, output to `log`; extra flags after.
  Child StartPrinter(const std::string& log,
                     std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        CRSP_PRINTER_BINARY, "--node",   Edge(*a_), "--node",
        Edge(*b_),           "--device", kDevice};
    args.insert(args.end(), extra.begin(), extra.end());
    return Child(Spawn(args, log));
  }

  // The valid_until of each "registered" line of the printer's log.
  static std::vector<uint64_t> Registrations(const std::string& log) {
    std::vector<uint64_t> untils;
    std::istringstream in(ReadFile(log));
    std::string line;
    while (std::getline(in, line)) {
      size_t at = line.find(" valid_until=");
      if (line.rfind("registered ", 0) == 0 && at != std::string::npos) {
        untils.push_back(std::stoull(line.substr(at + 13)));
      }
    }
    return untils;
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> a_, b_;
};

TEST_F(PrinterLive, BuyerSeesPrintAndCopyUntilSigtermWithdrawsThem) {
  std::string log = dir_.path() + "/printer.log";
  Child printer =
      StartPrinter(log, {"--print-price", "12", "--copy-price", "8"});
  ASSERT_GT(printer.pid, 0);
  ASSERT_TRUE(WaitForText(log, "registered", milliseconds(30000)))
      << ReadFile(log) << "\n"
      << a_->Log();
  EXPECT_NE(ReadFile(log).find("node-chosen"), std::string::npos);

  // A buyer asks the other node (whichever the printer chose, one of the
  // two is the other), so the offers went through the DHT.
  const std::vector<int> both = {CRSP_RES_PRINT, CRSP_RES_COPY};
  std::vector<int> seen;
  for (int i = 0; i < 20 && seen != both; ++i) {
    seen = OffersOfPrinter(Query(*a_));
    if (seen == both) seen = OffersOfPrinter(Query(*b_));
    if (seen != both) std::this_thread::sleep_for(milliseconds(500));
  }
  ASSERT_EQ(seen, both);
  Json::Value doc = Query(*b_);
  for (const auto& o : doc["offers"]) {
    if (o["device_id"].asString() != kDevice) continue;
    EXPECT_EQ(o["price"].asInt(), o["resource_id"].asInt() == 3 ? 12 : 8);
    EXPECT_EQ(o["billing_unit"].asInt(), CRSP_UNIT_PER_PAGE);
    EXPECT_EQ(o["device_kind"].asInt(), CRSP_KIND_PRINTER);
    EXPECT_EQ(o["currency"].asInt(), 156);
  }

  ASSERT_EQ(kill(printer.pid, SIGTERM), 0);
  std::optional<int> status = WaitExit(printer.pid, milliseconds(20000));
  ASSERT_TRUE(status) << "printer did not exit: " << ReadFile(log);
  printer.pid = -1;
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << ReadFile(log);
  EXPECT_NE(ReadFile(log).find("withdrawn"), std::string::npos)
      << ReadFile(log);

  // Gone: both nodes answer exactly, without them.
  bool gone = false;
  for (int i = 0; i < 40 && !gone; ++i) {
    const Json::Value at_a = Query(*a_, /*exact=*/true);
    const Json::Value at_b = Query(*b_, /*exact=*/true);
    gone = !at_a.isNull() && !at_b.isNull() && OffersOfPrinter(at_a).empty() &&
           OffersOfPrinter(at_b).empty();
    if (!gone) std::this_thread::sleep_for(milliseconds(500));
  }
  EXPECT_TRUE(gone) << "offers still listed after SIGTERM";
}

// An 8 s lease renewed 5 s before its end: a second register 3 s after the
// first, which buyers then see as the offers' new end of validity.
TEST_F(PrinterLive, RenewsBeforeTheLeaseRunsOut) {
  std::string log = dir_.path() + "/printer.log";
  Child printer = StartPrinter(log, {"--lease", "8", "--renew-before", "5"});
  ASSERT_GT(printer.pid, 0);
  auto deadline = steady_clock::now() + std::chrono::seconds(30);
  std::vector<uint64_t> untils;
  for (int i = 0; i < 300 && steady_clock::now() < deadline; ++i) {
    untils = Registrations(log);
    if (untils.size() >= 2) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_GE(untils.size(), 2u) << ReadFile(log);
  EXPECT_GE(untils[1], untils[0] + 2);  // renewed ~3 s later
  EXPECT_LE(untils[1], untils[0] + 5);

  // A buyer sees the renewed end (or a later one, when a third register
  // came in between).
  uint64_t seen_until = 0;
  for (int i = 0; i < 20 && seen_until < untils[1]; ++i) {
    Json::Value doc = Query(*b_);
    for (const auto& o : doc["offers"]) {
      if (o["device_id"].asString() == kDevice) {
        seen_until = o["valid_until"].asUInt64();
      }
    }
    if (seen_until < untils[1]) std::this_thread::sleep_for(milliseconds(250));
  }
  EXPECT_GE(seen_until, untils[1]) << ReadFile(log);

  ASSERT_EQ(kill(printer.pid, SIGTERM), 0);
  std::optional<int> status = WaitExit(printer.pid, milliseconds(20000));
  ASSERT_TRUE(status) << ReadFile(log);
  printer.pid = -1;
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << ReadFile(log);
}

}  // namespace
