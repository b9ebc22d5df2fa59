// The edge job on etcd, what a user would otherwise pick (bench/run starts
// Debian's etcd on loopback). Offers are keys under a prefix per resource
// id, /crsp/o/RRRR/PRICE/VALIDFROM/DEVICE, whose order is the spec's answer
// order; the value is the 72-byte offer; every key holds a lease that ends
// at the offer's valid until (one lease per validity end, shared).
//   etcd_bench register: one txn of R puts per device (as one CRSP register
//     request carries R entries); durable offers/s (etcd acknowledges after
//     its WAL fsync).
//   etcd_bench query: a range read of the resource's prefix, the spec's
//     filter and sort on the client, the first --max-results offers.
//     --page-limit 0 reads the whole prefix (the method, which also
//     gives the total); --page-limit N reads N keys (etcd's best shot: the
//     key order is the answer order, so with no selective filter one page
//     is the answer; no total).
#include <json/json.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <tuple>

#include "crsp/support/clock.h"
#include "crsp/support/hex.h"
#include "support/etcd_client.h"
#include "support/net.h"
#include "support/report.h"
#include "support/workload.h"

namespace crsp::bench {
namespace {

std::string Prefix(uint16_t resource) {
  char b[32];
  std::snprintf(b, sizeof b, "/crsp/o/%04x/", resource);
  return b;
}

std::string KeyFor(const Workload& w, uint32_t device, uint16_t resource) {
  char b[64];
  std::snprintf(b, sizeof b, "%010u/%020llu/", PriceFor(device, resource),
                static_cast<unsigned long long>(w.valid_from));
  auto id = DeviceFor(w.tag, device);
  return Prefix(resource) + b + support::ToHex(id);
}

struct Parsed {
  uint32_t quantity, price;
  uint64_t from, until;
  std::string device;
  uint16_t resource;
};

// The spec's match for "any unit, any price, min quantity 0, now".
bool Matches(const Parsed& o, uint64_t now) {
  return o.until > now && o.from <= now && o.quantity >= 0;
}

int Register(const std::string& url, const Workload& w, size_t devices,
             int window, const std::string& label) {
  uint64_t ttl = w.valid_until - support::UnixSeconds();
  Json::Value grant;
  Json::Reader reader;
  std::string answer = HttpPost(url + "/v3/lease/grant",
                                "{\"TTL\":" + std::to_string(ttl) + "}");
  if (!reader.parse(answer, grant) || !grant.isMember("ID")) {
    std::cerr << "etcd_bench: lease grant failed: " << answer << "\n";
    return 2;
  }
  std::string lease = grant["ID"].asString();
  HttpRunOptions o;
  o.base_url = url;
  o.window = window;
  o.count = devices;
  HttpRunResult r = RunHttp(
      o,
      [&](uint64_t i, std::string* path, std::string* body) {
        *path = "/v3/kv/txn";
        *body = "{\"success\":[";
        for (size_t k = 0; k < w.resources.size(); ++k) {
          uint16_t res = w.resources[k];
          if (k > 0) *body += ",";
          *body += "{\"requestPut\":{\"key\":\"" +
                   Base64(KeyFor(w, uint32_t(i), res)) + "\",\"value\":\"" +
                   Base64(OfferRecord(w, uint32_t(i), res)) +
                   "\",\"lease\":\"" + lease + "\"}}";
        }
        *body += "]}";
      },
      [](uint64_t, const std::string& a) {
        return a.find("\"succeeded\":true") != std::string::npos;
      });
  double offers = double(r.done) * double(w.resources.size());
  Emit(label, "requests_ok", double(r.done));
  Emit(label, "failed", double(r.failed));
  Emit(label, "seconds", r.seconds);
  Emit(label, "offers_per_sec", offers / r.seconds);
  Emit(label, "ack_p50_ms", r.p50_us / 1000);
  Emit(label, "ack_p99_ms", r.p99_us / 1000);
  return r.done == devices ? 0 : 3;
}

int Query(const std::string& url, const std::vector<uint16_t>& resources,
          int max_results, int page_limit, double seconds, int window,
          size_t expect_total, const std::string& label) {
  HttpRunOptions o;
  o.base_url = url;
  o.window = window;
  o.seconds = seconds;
  o.warmup_seconds = 0.5;
  uint64_t short_pages = 0;
  HttpRunResult r = RunHttp(
      o,
      [&](uint64_t i, std::string* path, std::string* body) {
        std::string prefix = Prefix(resources[i % resources.size()]);
        std::string end = prefix;
        end.back() = char(end.back() + 1);
        *path = "/v3/kv/range";
        *body = "{\"key\":\"" + Base64(prefix) + "\",\"range_end\":\"" +
                Base64(end) + "\",\"serializable\":true,\"limit\":" +
                std::to_string(page_limit) + "}";
      },
      [&](uint64_t, const std::string& a) {
        Json::Value v;
        Json::CharReaderBuilder builder;
        std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
        if (!reader->parse(a.data(), a.data() + a.size(), &v, nullptr)) {
          return false;
        }
        const uint64_t now = support::UnixSeconds();
        std::vector<Parsed> matches;
        for (const Json::Value& kv : v["kvs"]) {
          std::string s = Unbase64(kv["value"].asString());
          if (s.size() != 72) return false;
          Parsed p{uint32_t(GetBigEndian(s, 44, 4)),
                   uint32_t(GetBigEndian(s, 48, 4)),
                   GetBigEndian(s, 56, 8),
                   GetBigEndian(s, 64, 8),
                   s.substr(0, 16),
                   uint16_t(GetBigEndian(s, 38, 2))};
          if (Matches(p, now)) matches.push_back(std::move(p));
        }
        size_t n = std::min<size_t>(matches.size(), size_t(max_results));
        std::partial_sort(
            matches.begin(), matches.begin() + n, matches.end(),
            [](const Parsed& a, const Parsed& b) {
              return std::tie(a.price, a.from, a.device, a.resource) <
                     std::tie(b.price, b.from, b.device, b.resource);
            });
        if (n < size_t(max_results)) ++short_pages;
        return page_limit != 0 || expect_total == 0 ||
               matches.size() == expect_total;
      });
  Emit(label, "answers_per_sec", r.per_sec);
  Emit(label, "failed", double(r.failed));
  Emit(label, "short_pages", double(short_pages));
  Emit(label, "p50_us", r.p50_us);
  Emit(label, "p99_us", r.p99_us);
  return r.done > 0 && r.failed == 0 ? 0 : 3;
}

}  // namespace
}  // namespace crsp::bench

int main(int argc, char** argv) {
  using namespace crsp::bench;
  CLI::App app{"The CRSP edge job on etcd's JSON gateway"};
  app.require_subcommand(1);
  std::string url = "http://127.0.0.1:2379";
  std::string label = "etcd";
  size_t resources = 4;
  int window = 32;
  int cpu = -1;
  uint8_t tag = 1;
  auto common = [&](CLI::App* sub) {
    sub->add_option("--url", url, "etcd client URL");
    sub->add_option("--label", label);
    sub->add_option("--resources", resources);
    sub->add_option("--window", window, "requests in flight (connections)");
    sub->add_option("--cpu", cpu, "CPU to pin to");
    sub->add_option("--tag", tag);
  };
  size_t devices = 0;
  auto* reg = app.add_subcommand("register", "devices x resources, durable");
  common(reg);
  reg->add_option("--devices", devices)->required();
  int max_results = 10;
  int page_limit = 0;
  double seconds = 5;
  size_t expect = 0;
  auto* query = app.add_subcommand("query", "range read + filter + sort");
  common(query);
  query->add_option("--max-results", max_results);
  query->add_option("--page-limit", page_limit, "0: the whole prefix");
  query->add_option("--seconds", seconds);
  query->add_option("--expect", expect, "offers per resource id (check)");
  CLI11_PARSE(app, argc, argv);
  if (cpu >= 0) PinToCpu(cpu);
  Workload w = MakeWorkload(tag, BenchResources(resources));
  if (*reg) return Register(url, w, devices, window, label);
  return Query(url, w.resources, max_results, page_limit, seconds, window,
               expect, label);
}
