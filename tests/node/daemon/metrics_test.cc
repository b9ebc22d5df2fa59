// crsp-node's --metrics read by a real Prometheus (Debian's `prometheus`):
// three nodes on loopback, each serving metrics on [::1]; Prometheus
// scrapes them every second with a generated config and a temporary TSDB;
// after a known number of registers, queries and undecodable datagrams the
// test reads the counters back through Prometheus' HTTP query API and
// checks them exactly. The same Prometheus loads the alert rules
// (CRSP_ALERT_RULES) and must report them healthy.
//
// Every wait is bounded; Prometheus and the nodes are stopped by pid in
// destructors, also when an assertion fails half-way.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <json/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "crsp/protocol/codec.h"
#include "node_harness.h"
#include "node_process.h"

namespace crsp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// A TCP port on loopback that was free a moment ago (on both families: a
// dual-stack socket bound to ::).
uint16_t FreeTcpPort() {
  const int fd = socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_any;
  socklen_t size = sizeof(addr);
  uint16_t port = 0;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), size) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) == 0) {
    port = ntohs(addr.sin6_port);
  }
  if (fd >= 0) close(fd);
  return port;
}

// GET `target` from [::1]:`port`, or with `ipv4` from 127.0.0.1:`port`
// (HTTP/1.0, so the server closes when it is done): the body of a 200
// answer, else nullopt. At most `within`.
std::optional<std::string> HttpGet(uint16_t port, const std::string& target,
                                   milliseconds within = milliseconds(5000),
                                   bool ipv4 = false) {
  const auto deadline = Clock::now() + within;
  const int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  if (ipv4) inet_pton(AF_INET6, "::ffff:127.0.0.1", &addr.sin6_addr);
  addr.sin6_port = htons(port);
  std::string answer;
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 ||
      errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int error = 0;
    socklen_t len = sizeof(error);
    if (poll(&p, 1, 2000) == 1 &&
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0) {
      const std::string request = "GET " + target +
                                  " HTTP/1.0\r\nHost: localhost\r\n"
                                  "Connection: close\r\n\r\n";
      ok = send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(request.size());
      char buf[16384];
      while (ok && Clock::now() < deadline) {
        pollfd in{fd, POLLIN, 0};
        if (poll(&in, 1, 100) != 1) continue;
        const ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0) break;  // the whole answer
        if (n < 0) {
          ok = errno == EAGAIN || errno == EINTR;
          continue;
        }
        answer.append(buf, static_cast<size_t>(n));
      }
      ok = ok && Clock::now() < deadline;
    }
  }
  close(fd);
  const size_t body = answer.find("\r\n\r\n");
  if (!ok || body == std::string::npos ||
      answer.compare(0, 12, "HTTP/1.1 200") != 0 &&
          answer.compare(0, 12, "HTTP/1.0 200") != 0) {
    return std::nullopt;
  }
  return answer.substr(body + 4);
}

std::string UrlEncode(const std::string& text) {
  std::string out;
  char hex[4];
  for (unsigned char c : text) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      std::snprintf(hex, sizeof(hex), "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

// Debian's prometheus on [::1]:port with a scrape config of `targets` (every
// second) and the alert rules; its TSDB in a temporary directory. Killed by
// pid in the destructor.
class PrometheusProcess {
 public:
  static std::unique_ptr<PrometheusProcess> Start(
      const std::vector<std::string>& targets, const std::string& rules) {
    auto p = std::unique_ptr<PrometheusProcess>(new PrometheusProcess());
    p->port_ = FreeTcpPort();
    const std::string config = p->dir_.path() + "/prometheus.yml";
    std::ofstream out(config);
    out << "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
        << "  evaluation_interval: 1s\n"
        << "rule_files:\n  - '" << rules << "'\n"
        << "scrape_configs:\n  - job_name: crsp-node\n"
        << "    static_configs:\n      - targets:\n";
    for (const std::string& t : targets) out << "          - '" << t << "'\n";
    out.close();
    p->pid_ = Spawn({"prometheus", "--config.file=" + config,
                     "--storage.tsdb.path=" + p->dir_.path() + "/data",
                     "--web.listen-address=[::1]:" + std::to_string(p->port_),
                     "--log.level=warn"},
                    p->dir_.path() + "/prometheus.log");
    if (p->pid_ <= 0) return nullptr;
    // Ready once its TSDB is open and the config loaded (a few seconds).
    for (auto end = Clock::now() + seconds(30); Clock::now() < end;) {
      if (HttpGet(p->port_, "/-/ready", milliseconds(1000))) return p;
      int status = 0;
      if (waitpid(p->pid_, &status, WNOHANG) == p->pid_) {
        p->pid_ = -1;  // exited (a bad config): nothing to stop
        break;
      }
      std::this_thread::sleep_for(milliseconds(200));
    }
    ADD_FAILURE() << "prometheus not ready; its log:\n" << p->Log();
    return nullptr;
  }

  ~PrometheusProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {  // 5 s, then SIGKILL
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(milliseconds(100));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }

  uint16_t port() const { return port_; }

  std::string Log() const {
    std::ifstream in(dir_.path() + "/prometheus.log");
    return std::string((std::istreambuf_iterator<char>(in)),
                       std::istreambuf_iterator<char>());
  }

  // GET /api/v1/<path>, parsed; null Json::Value when it failed.
  Json::Value Api(const std::string& path) const {
    std::optional<std::string> body = HttpGet(port_, "/api/v1/" + path);
    Json::Value root;
    if (!body) return root;
    Json::CharReaderBuilder builder;
    std::string errors;
    std::istringstream in(*body);
    if (!Json::parseFromStream(builder, in, &root, &errors)) return {};
    return root;
  }

  // The value of an instant query that yields one sample; nullopt when it
  // yields none (not scraped yet) or more than one.
  std::optional<double> Value(const std::string& promql) const {
    const Json::Value root = Api("query?query=" + UrlEncode(promql));
    const Json::Value& result = root["data"]["result"];
    if (root["status"].asString() != "success" || !result.isArray() ||
        result.size() != 1) {
      return std::nullopt;
    }
    return std::stod(result[0]["value"][1].asString());
  }

  // Polls `promql` until it yields `want` (the scrape every second and the
  // node's once-a-second gauges make it lag), at most `within`. Returns the
  // last value seen.
  std::optional<double> WaitFor(const std::string& promql,
                                std::function<bool(double)> want,
                                milliseconds within = milliseconds(20000)) {
    std::optional<double> last;
    for (auto end = Clock::now() + within; Clock::now() < end;) {
      last = Value(promql);
      if (last && want(*last)) return last;
      std::this_thread::sleep_for(milliseconds(250));
    }
    return last;
  }
  std::optional<double> WaitForEqual(const std::string& promql, double want) {
    return WaitFor(promql, [want](double v) { return v == want; });
  }

 private:
  PrometheusProcess() = default;
  TempDir dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// Sends `request` once (no resend: every request the test sends is one the
// node counts) and waits for its answer; returns its size, 0 if none. The
// answer's status must be `want`, or `also` when given; `got` (if not null)
// receives it.
size_t SendOnce(UdpClient& client, const protocol::Packet& request,
                wire::Status want, std::optional<wire::Status> also = {},
                wire::Status* got = nullptr) {
  const std::vector<std::byte> bytes = protocol::Encode(request);
  client.Send(bytes);
  std::optional<std::vector<std::byte>> answer = client.Receive(seconds(15));
  if (!answer) {
    ADD_FAILURE() << "no answer to txid " << request.header.txid;
    return 0;
  }
  const protocol::DecodeResult decoded = protocol::Decode(*answer);
  EXPECT_EQ(decoded.packet.header.txid, request.header.txid);
  const wire::Status status = decoded.packet.header.status;
  if (also && status == *also) {
    if (got) *got = status;
    return answer->size();
  }
  EXPECT_EQ(status, want) << "txid " << request.header.txid;
  if (got) *got = status;
  return answer->size();
}

std::string Selector(const std::string& metric, uint16_t metrics_port,
                     const std::string& labels = "") {
  return metric + "{instance=\"127.0.0.1:" + std::to_string(metrics_port) +
         "\"" + (labels.empty() ? "" : "," + labels) + "}";
}

TEST(MetricsTest, PrometheusScrapesThreeNodesAndCountsExactly) {
  TempDir root;
  const std::vector<uint16_t> metrics_ports = {FreeTcpPort(), FreeTcpPort(),
                                               FreeTcpPort()};
  std::vector<std::unique_ptr<NodeProcess>> nodes;
  std::vector<std::string> targets;
  for (size_t i = 0; i < 3; ++i) {
    // IPv4: Debian's civetweb, under prometheus-cpp's exposer, has no IPv6
    // (docs/metrics.md).
    const std::string listen = "127.0.0.1:" + std::to_string(metrics_ports[i]);
    std::vector<std::string> bootstrap;
    if (i > 0) bootstrap.push_back(nodes[0]->dht_endpoint());
    nodes.push_back(StartNode(root.path() + "/node" + std::to_string(i),
                              bootstrap, {"--metrics", listen}));
    ASSERT_NE(nodes.back(), nullptr) << "node " << i << " did not start";
    targets.push_back(listen);
  }
  // The metrics port itself, before Prometheus: a node serves the text
  // format with the process metrics.
  std::optional<std::string> text =
      HttpGet(metrics_ports[0], "/metrics", milliseconds(5000), true);
  ASSERT_TRUE(text.has_value());
  EXPECT_NE(text->find("# TYPE crsp_requests_total counter"),
            std::string::npos);
  EXPECT_NE(text->find("process_resident_memory_bytes"), std::string::npos);
  // Prometheus' own linter of the exposition (names, units, HELP, TYPE).
  {
    const std::string exposition = root.path() + "/metrics.txt";
    std::ofstream(exposition) << *text;
    const std::string lint = root.path() + "/promtool.txt";
    const pid_t pid = Spawn(
        {"sh", "-c", "exec promtool check metrics < " + exposition}, lint);
    ASSERT_GT(pid, 0);
    int status = -1;
    for (auto end = Clock::now() + seconds(20); Clock::now() < end;) {
      if (waitpid(pid, &status, WNOHANG) == pid) break;
      std::this_thread::sleep_for(milliseconds(50));
    }
    if (!WIFEXITED(status)) {  // still running past the deadline
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    std::ifstream in(lint);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << std::string(
        (std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  auto prometheus = PrometheusProcess::Start(targets, CRSP_ALERT_RULES);
  ASSERT_NE(prometheus, nullptr);
  EXPECT_EQ(prometheus->WaitForEqual("sum(up{job=\"crsp-node\"})", 3), 3)
      << prometheus->Log();

  // Node 0 takes kRegisters registers of kEntries offers each.
  constexpr int kRegisters = 6;
  constexpr int kEntries = 2;
  constexpr int kOffers = kRegisters * kEntries;
  const uint16_t resources[kEntries] = {wire::kResourceCpu,
                                        wire::kResourceStorage};
  UdpClient client0(nodes[0]->edge_port());
  size_t register_bytes = 0;
  for (int i = 0; i < kRegisters; ++i) {
    std::vector<protocol::ResourceEntry> entries;
    for (uint16_t resource : resources) entries.push_back(Entry(resource, 100));
    register_bytes += SendOnce(
        client0,
        Register(Device(static_cast<uint8_t>(10 + i)), entries, 1000 + i),
        wire::Status::kOk);
  }
  // Node 1 answers kQueries queries of both resource ids: the first reads
  // the DHT (cold), later ones may come from its index. A query answered
  // before node 1 read every key is INCOMPLETE (PROTOCOL.md 1.1), counted
  // under that status.
  constexpr int kQueries = 5;
  UdpClient client1(nodes[1]->edge_port());
  size_t query_bytes = 0;
  int queries_ok = 0;
  for (int i = 0; i < kQueries; ++i) {
    std::vector<protocol::QueryEntry> entries;
    for (uint16_t resource : resources) {
      protocol::QueryEntry entry;
      entry.resource = resource;
      entries.push_back(entry);
    }
    wire::Status status = wire::Status::kOk;
    query_bytes +=
        SendOnce(client1, Query(entries, 2000 + i), wire::Status::kOk,
                 wire::Status::kIncomplete, &status);
    queries_ok += status == wire::Status::kOk ? 1 : 0;
  }
  // Node 2 gets kJunk datagrams that are no CRSP: no answer, counted.
  constexpr int kJunk = 4;
  UdpClient client2(nodes[2]->edge_port());
  const std::vector<std::byte> junk(5, std::byte{0x42});
  for (int i = 0; i < kJunk; ++i) client2.Send(junk);

  const uint16_t m0 = metrics_ports[0], m1 = metrics_ports[1],
                 m2 = metrics_ports[2];
  PrometheusProcess& p = *prometheus;
  // Requests by protocol, type and status, and answer bytes.
  EXPECT_EQ(
      p.WaitForEqual(Selector("crsp_requests_total", m0,
                              "protocol=\"registration\",type=\"register\","
                              "status=\"OK\""),
                     kRegisters),
      kRegisters);
  EXPECT_EQ(p.WaitForEqual(
                Selector("crsp_answer_bytes_total", m0, "type=\"register\""),
                register_bytes),
            register_bytes);
  EXPECT_EQ(p.WaitForEqual("sum(" +
                               Selector("crsp_requests_total", m1,
                                        "protocol=\"inquiry\",type=\"query\","
                                        "status=~\"OK|INCOMPLETE\"") +
                               ")",
                           kQueries),
            kQueries);
  if (queries_ok > 0) {
    EXPECT_EQ(p.WaitForEqual(Selector("crsp_requests_total", m1,
                                      "protocol=\"inquiry\",type=\"query\","
                                      "status=\"OK\""),
                             queries_ok),
              queries_ok);
  }
  EXPECT_EQ(
      p.WaitForEqual(Selector("crsp_answer_bytes_total", m1, "type=\"query\""),
                     query_bytes),
      query_bytes);
  // No register reached nodes 1 and 2, no query nodes 0 and 2.
  EXPECT_EQ(
      p.Value("sum(" +
              Selector("crsp_requests_total", m1, "type=\"register\"") + ")"),
      0);
  EXPECT_EQ(
      p.Value("sum(" + Selector("crsp_requests_total", m0, "type=\"query\"") +
              ")"),
      0);
  // Drops.
  EXPECT_EQ(p.WaitForEqual(Selector("crsp_datagrams_dropped_total", m2,
                                    "reason=\"undecodable\""),
                           kJunk),
            kJunk);
  EXPECT_EQ(p.Value(Selector("crsp_datagrams_dropped_total", m0,
                             "reason=\"budget\"")),
            0);
  // Offers journaled, announced and indexed on node 0.
  EXPECT_EQ(p.WaitForEqual(Selector("crsp_journal_records_written_total", m0),
                           kOffers),
            kOffers);
  EXPECT_EQ(p.WaitForEqual(Selector("crsp_offers_journaled", m0), kOffers),
            kOffers);
  EXPECT_EQ(p.WaitForEqual(Selector("crsp_offers_announced", m0), kOffers),
            kOffers);
  EXPECT_EQ(p.WaitForEqual(Selector("crsp_offers_indexed", m0), kOffers),
            kOffers);
  EXPECT_EQ(p.WaitForEqual(Selector("crsp_pending_writes", m0), 0), 0);
  // Every register was acknowledged, so every put confirmed.
  EXPECT_EQ(p.WaitForEqual(Selector("crsp_dht_operations_total", m0,
                                    "operation=\"put\",outcome=\"ok\""),
                           kOffers),
            kOffers);
  EXPECT_EQ(p.Value("sum(" +
                    Selector("crsp_dht_operations_total", m0,
                             "operation=\"put\",outcome!=\"ok\"") +
                    ")"),
            0);
  EXPECT_EQ(p.WaitForEqual(Selector("crsp_dht_operation_duration_seconds_count",
                                    m0, "operation=\"put\""),
                           kOffers),
            kOffers);
  EXPECT_EQ(p.WaitForEqual(Selector("crsp_dht_operations_in_flight", m0,
                                    "operation=\"put\""),
                           0),
            0);
  // Every query entry was served, from the index or by a DHT read, none
  // forwarded (the queries name several ids, and in 3 nodes every node
  // aggregates every id); the first query of a resource id read the DHT.
  EXPECT_EQ(p.WaitForEqual(
                "sum(" + Selector("crsp_resource_ids_served_total", m1) + ")",
                kQueries * kEntries),
            kQueries * kEntries);
  EXPECT_GE(p.Value(Selector("crsp_resource_ids_served_total", m1,
                             "how=\"cold_read\"")),
            kEntries);
  EXPECT_EQ(p.Value(Selector("crsp_resource_ids_served_total", m1,
                             "how=\"forwarded\"")),
            0);
  // The cold reads ran gets on node 1, and started no listen: aggregators
  // are pushed new records (docs/scaling.md "Pushed records").
  EXPECT_GE(p.WaitFor(Selector("crsp_dht_operations_total", m1,
                               "operation=\"get\",outcome=\"ok\""),
                      [](double v) { return v >= 1; }),
            1);
  EXPECT_EQ(p.Value(Selector("crsp_dht_operations_in_flight", m1,
                             "operation=\"listen\"")),
            0);
  // Journal syncs (group commit: at most one per register).
  const auto syncs =
      p.WaitFor(Selector("crsp_journal_fsync_duration_seconds_count", m0),
                [](double v) { return v >= 1; });
  EXPECT_GE(syncs, 1);
  EXPECT_LE(syncs, kRegisters);
  // Peers: each node knows the two others as good (OpenDHT's own view; it
  // may take a few seconds after start).
  for (uint16_t m : metrics_ports) {
    EXPECT_EQ(
        p.WaitForEqual(Selector("crsp_dht_peers", m, "state=\"good\""), 2), 2)
        << "node at metrics port " << m;
  }
  // Process metrics and the state directory's file system.
  EXPECT_GT(p.Value(Selector("process_resident_memory_bytes", m0)), 1e6);
  EXPECT_GT(p.Value(Selector("process_open_fds", m0)), 3);
  EXPECT_GT(p.Value(Selector("process_start_time_seconds", m0)),
            support::UnixSeconds() - 600);
  EXPECT_LE(p.Value(Selector("process_start_time_seconds", m0)),
            support::UnixSeconds() + 1);
  EXPECT_GE(p.Value(Selector("process_cpu_seconds_total", m0)), 0);
  EXPECT_GT(p.Value(Selector("crsp_state_filesystem_size_bytes", m0)), 0);
  EXPECT_GT(p.Value(Selector("crsp_state_filesystem_avail_bytes", m0)), 0);

  // The alert rules: loaded and evaluated by this Prometheus without error,
  // and none fires on this healthy cluster.
  const Json::Value rules = p.Api("rules");
  ASSERT_EQ(rules["status"].asString(), "success") << p.Log();
  size_t alerting = 0;
  for (const Json::Value& group : rules["data"]["groups"]) {
    for (const Json::Value& rule : group["rules"]) {
      if (rule["type"].asString() != "alerting") continue;
      ++alerting;
      EXPECT_EQ(rule["health"].asString(), "ok")
          << rule["name"].asString() << ": " << rule["lastError"].asString();
      EXPECT_NE(rule["state"].asString(), "firing") << rule["name"].asString();
    }
  }
  EXPECT_GE(alerting, 4u);

  // Node 2 stops: Prometheus sees it down.
  ASSERT_TRUE(nodes[2]->Stop(SIGTERM, seconds(15)).has_value());
  EXPECT_EQ(p.WaitForEqual(Selector("up", m2), 0), 0);
}

}  // namespace
}  // namespace crsp::testing
