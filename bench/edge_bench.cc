// The edge benchmark's client, one program for every step bench/run takes
// against a single node (or the echo server):
//   edge_bench register --target EP --devices N --resources R ...
//       registers N devices x R resource ids; durable offers/s.
//   edge_bench check --target EP --resources R --expect N
//       every resource id answers `total` = N (the offers are all there).
//   edge_bench query --target EP --resources R --max-results 10 ...
//       peak answers/s over a sweep of windows, then p50/p99 latency at
//       half of the peak (open loop). Against the echo server too.
// Figures go to stdout as label.key=value (support/report.h).
#include <poll.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>
#include <array>
#include <iostream>
#include <sstream>

#include "crsp/protocol/codec.h"
#include "support/net.h"
#include "support/registrar.h"
#include "support/report.h"
#include "support/udp_load.h"
#include "support/workload.h"

namespace crsp::bench {
namespace {

struct Common {
  std::string target = "[::1]:7400";
  std::string label = "edge";
  size_t resources = 4;
  uint16_t first_resource = 0;
  int cpu = -1;
  uint8_t tag = 1;
  uint32_t first_device = 0;
};

sockaddr_in6 Target(const std::string& text) {
  auto t = ParseEndpoint(text);
  if (!t) throw std::runtime_error("bad endpoint " + text);
  return *t;
}

int Register(const Common& c, size_t devices, int window, double rate) {
  if (c.cpu >= 0) PinToCpu(c.cpu);
  Workload w =
      MakeWorkload(c.tag, BenchResources(c.resources, c.first_resource));
  int fd = OpenUdpSocket();
  RegisterOptions o;
  o.window = window;
  o.rate = rate;
  RegisterResult r = RunRegistrations(
      fd, {Target(c.target)}, devices,
      [&](uint32_t i) { return RegisterBytes(w, c.first_device + i, i); }, o);
  Emit(c.label, "requests", double(r.requests));
  Emit(c.label, "entries_ok", double(r.entries_ok));
  Emit(c.label, "entries_failed", double(r.entries_failed));
  Emit(c.label, "unanswered", double(r.unanswered));
  Emit(c.label, "seconds", r.seconds);
  Emit(c.label, "offers_per_sec", r.entries_per_sec);
  Emit(c.label, "requests_per_sec", double(r.requests_ok) / r.seconds);
  Emit(c.label, "ack_p50_ms", r.p50_ms);
  Emit(c.label, "ack_p99_ms", r.p99_ms);
  if (r.first_bad_status >= 0) Emit(c.label, "bad_status", r.first_bad_status);
  // Entries a loaded node answers not OK are a figure (entries_failed,
  // bad_status), not a broken benchmark; nothing acknowledged at all is.
  return r.entries_ok > 0 ? 0 : 3;
}

// The `total` of a query for `resource` (any price), or -1.
int64_t Total(int fd, uint16_t resource) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    auto q = QueryBytes(resource, 1, 77 + attempt);
    send(fd, q.data(), q.size(), 0);
    std::array<std::byte, 2048> buf{};
    for (uint64_t end = NowNanos() + 3'000'000'000; NowNanos() < end;) {
      pollfd p{fd, POLLIN, 0};
      poll(&p, 1, 100);
      ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n <= 0) continue;
      auto d = protocol::Decode(std::span(buf.data(), size_t(n)));
      const auto* a = std::get_if<protocol::QueryAnswer>(&d.packet.body);
      if (d.packet.header.txid == uint32_t(77 + attempt) && a != nullptr) {
        return a->total;
      }
    }
  }
  return -1;
}

int Check(const Common& c, int64_t expect) {
  sockaddr_in6 t = Target(c.target);
  int fd = OpenUdpSocket(0, &t);
  int bad = 0;
  for (uint16_t r : BenchResources(c.resources, c.first_resource)) {
    int64_t total = Total(fd, r);
    if (total != expect) {
      std::cerr << "check: resource " << r << " total " << total
                << ", expected " << expect << "\n";
      ++bad;
    }
  }
  Emit(c.label, "resources_complete", double(c.resources - bad));
  return bad == 0 ? 0 : 3;
}

int Query(const Common& c, int max_results, double seconds,
          const std::string& windows, double timeout_ms) {
  bool pinned = c.cpu >= 0 && PinToCpu(c.cpu);
  sockaddr_in6 t = Target(c.target);
  int fd = OpenUdpSocket(0, &t);
  std::vector<uint16_t> resources =
      BenchResources(c.resources, c.first_resource);
  // 65,536 distinct txids, the resource ids in turn.
  std::vector<std::vector<std::byte>> requests;
  for (uint32_t i = 0; i < 65536; ++i) {
    requests.push_back(
        QueryBytes(resources[i % resources.size()], uint16_t(max_results), i));
  }
  LoadOptions o;
  o.seconds = seconds;
  o.timeout_nanos = uint64_t(timeout_ms * 1e6);
  double peak = 0;
  int best_window = 0;
  std::stringstream ws(windows);
  for (std::string item; std::getline(ws, item, ',');) {
    o.window = std::stoi(item);
    Drain(fd);
    LoadResult r = RunLoad(fd, requests, o);
    Emit(c.label, "w" + item + ".answers_per_sec", r.answers_per_sec);
    Emit(c.label, "w" + item + ".p50_us", r.p50_us);
    Emit(c.label, "w" + item + ".p99_us", r.p99_us);
    Emit(c.label, "w" + item + ".lost", double(r.lost));
    Emit(c.label, "w" + item + ".not_ok", double(r.answered - r.ok));
    Emit(c.label, "answer_bytes", double(r.answer_bytes));
    if (r.answers_per_sec > peak) {
      peak = r.answers_per_sec;
      best_window = o.window;
    }
  }
  Emit(c.label, "peak_answers_per_sec", peak);
  Emit(c.label, "peak_window", best_window);
  o.window = 1024;
  o.rate = peak / 2;
  Drain(fd);
  LoadResult half = RunLoad(fd, requests, o);
  Emit(c.label, "half.rate", o.rate);
  Emit(c.label, "half.answers_per_sec", half.answers_per_sec);
  Emit(c.label, "half.p50_us", half.p50_us);
  Emit(c.label, "half.p99_us", half.p99_us);
  Emit(c.label, "half.p999_us", half.p999_us);
  Emit(c.label, "half.lost", double(half.lost));
  Emit(c.label, "pinned", pinned ? 1 : 0);
  return peak > 0 ? 0 : 3;
}

}  // namespace
}  // namespace crsp::bench

int main(int argc, char** argv) {
  using namespace crsp::bench;
  CLI::App app{"CRSP edge benchmark client"};
  app.require_subcommand(1);
  Common c;
  auto common = [&c](CLI::App* sub) {
    sub->add_option("--target", c.target, "[ADDR]:PORT of the server");
    sub->add_option("--label", c.label, "prefix of the figures");
    sub->add_option("--resources", c.resources, "resource ids used");
    sub->add_option("--first-resource", c.first_resource,
                    "offset of the first resource id");
    sub->add_option("--cpu", c.cpu, "CPU to pin to");
    sub->add_option("--tag", c.tag, "device id tag of this run");
    sub->add_option("--first-device", c.first_device, "number of device 0");
  };
  size_t devices = 0;
  int window = 64;
  double rate = 0;
  auto* reg = app.add_subcommand("register", "register devices x resources");
  common(reg);
  reg->add_option("--devices", devices)->required();
  reg->add_option("--window", window);
  reg->add_option("--rate", rate, "requests/s (0: window-bound)");
  int64_t expect = 0;
  auto* check = app.add_subcommand("check", "every resource holds --expect");
  common(check);
  check->add_option("--expect", expect)->required();
  int max_results = 10;
  double seconds = 5;
  std::string windows = "4,16,64";
  double timeout_ms = 2000;
  auto* query = app.add_subcommand("query", "peak and half-peak latency");
  common(query);
  query->add_option("--max-results", max_results);
  query->add_option("--seconds", seconds, "per measured step");
  query->add_option("--windows", windows, "windows to try for the peak");
  query->add_option("--timeout-ms", timeout_ms);
  CLI11_PARSE(app, argc, argv);
  try {
    if (*reg) return Register(c, devices, window, rate);
    if (*check) return Check(c, expect);
    return Query(c, max_results, seconds, windows, timeout_ms);
  } catch (const std::exception& e) {
    std::cerr << "edge_bench: " << e.what() << "\n";
    return 2;
  }
}
