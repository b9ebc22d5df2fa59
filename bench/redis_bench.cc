// The edge job on Redis, the other thing a user would pick for a fast
// registry of priced offers (bench/run starts Debian's redis-server on
// loopback, pinned like the node). The layout a Redis user would choose:
//   o:RRRR  sorted set, score = price, member = the 72-byte offer
//   e:RRRR  sorted set, score = valid until, member = the same offer
// Expired offers are trimmed from both by a script (ZRANGEBYSCORE on e:,
// ZREM from o:, ZREMRANGEBYSCORE on e:) that the client runs once a second
// per resource id during every load, as a housekeeping job would.
//   redis_bench register: MULTI, ZADD o: and ZADD e: for each of the
//     device's R offers, EXEC (one transaction per device, as one CRSP
//     register request carries R entries); offers/s. Durable when the
//     server runs with `appendfsync always` (Redis answers EXEC after the
//     AOF write and fsync of that event-loop round).
//   redis_bench query: ZRANGEBYSCORE o:R -inf +inf LIMIT 0 10 and ZCOUNT
//     o:R -inf +inf (the answer and its total), pipelined back to back.
// Requests go over one connection with a window of W requests in flight:
// sent as soon as a slot is free (the same discipline as the UDP load
// generator), or with --batch, W at once and all answers read before the
// next W (redis-benchmark -P style). Commands are formatted once up front
// for queries, so the client's cost is reading answers, as for CRSP.
#include <hiredis/hiredis.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <deque>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "crsp/support/clock.h"
#include "support/latency.h"
#include "support/net.h"
#include "support/report.h"
#include "support/workload.h"

namespace crsp::bench {
namespace {

// Removes the offers whose valid-until has passed from both sets.
constexpr char kTrimScript[] =
    "local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1]) "
    "for i = 1, #gone, 1000 do "
    "  redis.call('ZREM', KEYS[1], unpack(gone, i, math.min(i + 999, #gone))) "
    "end "
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1]) "
    "return #gone";

std::string Key(char set, uint16_t resource) {
  char b[16];
  std::snprintf(b, sizeof b, "%c:%04x", set, resource);
  return b;
}

// One command in Redis' wire format (binary-safe arguments).
std::string Command(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  char* out = nullptr;
  int n =
      redisFormatCommandArgv(&out, int(args.size()), argv.data(), lens.data());
  std::string s = n > 0 ? std::string(out, size_t(n)) : std::string();
  redisFreeCommand(out);
  return s;
}

using ReplyPtr = std::unique_ptr<redisReply, void (*)(void*)>;

ReplyPtr Call(redisContext* c, const std::vector<std::string>& args) {
  std::string cmd = Command(args);
  redisAppendFormattedCommand(c, cmd.data(), cmd.size());
  void* r = nullptr;
  if (redisGetReply(c, &r) != REDIS_OK) r = nullptr;
  return ReplyPtr(static_cast<redisReply*>(r), freeReplyObject);
}

struct Request {
  std::string bytes;  // one or more commands
  int replies = 1;    // how many replies they give
};

struct PipelineOptions {
  int window = 64;
  bool batch = false;  // W at once, then all their answers
  size_t count = 0;    // requests; 0: for `seconds` after the warm-up
  double seconds = 5;
  double warmup_seconds = 0.5;
  double deadline_seconds = 600;
  // Housekeeping (not counted): sent once a second when non-empty.
  std::function<std::vector<Request>()> housekeeping;
};

struct PipelineResult {
  uint64_t done = 0, failed = 0;
  double seconds = 0, per_sec = 0, p50_us = 0, p99_us = 0;
};

// Runs requests make(0), make(1), ... over `c`; `check(i, replies)` says
// whether request i's replies are right.
PipelineResult RunPipeline(
    redisContext* c, const PipelineOptions& o,
    const std::function<const Request&(uint64_t)>& make,
    const std::function<bool(uint64_t, std::vector<ReplyPtr>&)>& check) {
  struct Pending {
    uint64_t index;  // UINT64_MAX: housekeeping
    int replies;
    uint64_t sent_at;
  };
  std::deque<Pending> pending;
  Latencies latencies;
  PipelineResult r;
  const uint64_t start = NowNanos();
  const uint64_t measure_from = start + uint64_t(o.warmup_seconds * 1e9);
  const uint64_t end = o.count > 0 ? start + uint64_t(o.deadline_seconds * 1e9)
                                   : measure_from + uint64_t(o.seconds * 1e9);
  uint64_t next = 0, last_done = start, next_housekeeping = start;
  int in_flight = 0;
  std::vector<ReplyPtr> replies;
  for (;;) {
    uint64_t now = NowNanos();
    bool sending = now < end && (o.count == 0 || next < o.count);
    if (sending && o.housekeeping && now >= next_housekeeping) {
      for (const Request& h : o.housekeeping()) {
        redisAppendFormattedCommand(c, h.bytes.data(), h.bytes.size());
        pending.push_back({UINT64_MAX, h.replies, now});
      }
      next_housekeeping = now + 1'000'000'000;
    }
    if (sending && (!o.batch || in_flight == 0)) {
      while (in_flight < o.window && (o.count == 0 || next < o.count)) {
        const Request& q = make(next);
        redisAppendFormattedCommand(c, q.bytes.data(), q.bytes.size());
        pending.push_back({next++, q.replies, now});
        ++in_flight;
      }
    }
    if (pending.empty()) break;
    int written = 0;
    while (!written) {
      if (redisBufferWrite(c, &written) != REDIS_OK) return r;
    }
    if (redisBufferRead(c) != REDIS_OK) return r;  // blocks for some bytes
    for (;;) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(c, &raw) != REDIS_OK) return r;
      if (raw == nullptr) break;
      replies.emplace_back(static_cast<redisReply*>(raw), freeReplyObject);
      Pending& p = pending.front();
      if (int(replies.size()) < p.replies) continue;
      uint64_t at = NowNanos();
      if (p.index != UINT64_MAX) {
        --in_flight;
        bool ok = check(p.index, replies);
        if (p.sent_at >= measure_from || o.count > 0) {
          if (ok) {
            ++r.done;
            latencies.Add(at - p.sent_at);
            last_done = at;
          } else {
            ++r.failed;
          }
        }
      }
      replies.clear();
      pending.pop_front();
      if (pending.empty()) break;
    }
  }
  r.seconds = o.count > 0 ? double(last_done - start) * 1e-9 : o.seconds;
  r.per_sec = r.seconds > 0 ? double(r.done) / r.seconds : 0;
  r.p50_us = latencies.PercentileMicros(50);
  r.p99_us = latencies.PercentileMicros(99);
  return r;
}

struct Common {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string label = "redis";
  size_t resources = 4;
  int cpu = -1;
  uint8_t tag = 1;
  uint32_t first_device = 0;
};

struct Session {
  redisContext* c = nullptr;
  std::string trim_sha;
  std::vector<uint16_t> resources;
  ~Session() {
    if (c != nullptr) redisFree(c);
  }
};

// Connects and loads the trim script; false (and a message) when not.
bool Open(const Common& k, Session* s) {
  s->c = redisConnect(k.host.c_str(), k.port);
  if (s->c == nullptr || s->c->err) {
    std::cerr << "redis_bench: cannot connect to " << k.host << ":" << k.port
              << "\n";
    return false;
  }
  ReplyPtr sha = Call(s->c, {"SCRIPT", "LOAD", kTrimScript});
  if (!sha || sha->type != REDIS_REPLY_STRING) {
    std::cerr << "redis_bench: SCRIPT LOAD failed\n";
    return false;
  }
  s->trim_sha.assign(sha->str, sha->len);
  s->resources = BenchResources(k.resources);
  return true;
}

std::vector<Request> TrimRequests(const Session& s) {
  std::vector<Request> out;
  std::string now = std::to_string(support::UnixSeconds());
  for (uint16_t r : s.resources) {
    out.push_back(
        {Command({"EVALSHA", s.trim_sha, "2", Key('o', r), Key('e', r), now}),
         1});
  }
  return out;
}

int Register(const Common& k, size_t devices, int window, bool batch) {
  Session s;
  if (!Open(k, &s)) return 2;
  Workload w = MakeWorkload(k.tag, s.resources);
  const std::string until = std::to_string(w.valid_until);
  PipelineOptions o;
  o.window = window;
  o.batch = batch;
  o.count = devices;
  o.housekeeping = [&] { return TrimRequests(s); };
  Request current;
  const int per_device = int(w.resources.size());
  PipelineResult r = RunPipeline(
      s.c, o,
      [&](uint64_t i) -> const Request& {
        uint32_t device = k.first_device + uint32_t(i);
        current.bytes = Command({"MULTI"});
        for (uint16_t res : w.resources) {
          std::string offer = OfferRecord(w, device, res);
          current.bytes +=
              Command({"ZADD", Key('o', res),
                       std::to_string(PriceFor(device, res)), offer});
          current.bytes += Command({"ZADD", Key('e', res), until, offer});
        }
        current.bytes += Command({"EXEC"});
        current.replies = 2 + 2 * per_device;
        return current;
      },
      [&](uint64_t, std::vector<ReplyPtr>& replies) {
        const redisReply* exec = replies.back().get();
        if (exec->type != REDIS_REPLY_ARRAY ||
            exec->elements != size_t(2 * per_device)) {
          return false;
        }
        for (size_t j = 0; j < exec->elements; ++j) {
          if (exec->element[j]->type != REDIS_REPLY_INTEGER) return false;
        }
        return true;
      });
  double offers = double(r.done) * double(per_device);
  Emit(k.label, "requests_ok", double(r.done));
  Emit(k.label, "failed", double(r.failed));
  Emit(k.label, "seconds", r.seconds);
  Emit(k.label, "offers_per_sec", r.seconds > 0 ? offers / r.seconds : 0);
  Emit(k.label, "ack_p50_ms", r.p50_us / 1000);
  Emit(k.label, "ack_p99_ms", r.p99_us / 1000);
  return r.done == devices ? 0 : 3;
}

int Query(const Common& k, int max_results, double seconds,
          const std::string& windows, bool batch, long long expect) {
  Session s;
  if (!Open(k, &s)) return 2;
  std::vector<Request> requests;
  for (uint16_t r : s.resources) {
    requests.push_back({Command({"ZRANGEBYSCORE", Key('o', r), "-inf", "+inf",
                                 "LIMIT", "0", std::to_string(max_results)}) +
                            Command({"ZCOUNT", Key('o', r), "-inf", "+inf"}),
                        2});
  }
  const size_t want = size_t(max_results);
  auto check = [&](uint64_t, std::vector<ReplyPtr>& replies) {
    const redisReply* page = replies[0].get();
    const redisReply* total = replies[1].get();
    if (page->type != REDIS_REPLY_ARRAY || total->type != REDIS_REPLY_INTEGER) {
      return false;
    }
    if (expect >= 0 && total->integer != expect) return false;
    if (page->elements != std::min<size_t>(want, size_t(total->integer))) {
      return false;
    }
    for (size_t j = 0; j < page->elements; ++j) {
      if (page->element[j]->len != 72) return false;
    }
    return true;
  };
  double peak = 0;
  int best_window = 0;
  std::stringstream ws(windows);
  for (std::string item; std::getline(ws, item, ',');) {
    PipelineOptions o;
    o.window = std::stoi(item);
    o.batch = batch;
    o.seconds = seconds;
    o.housekeeping = [&] { return TrimRequests(s); };
    PipelineResult r = RunPipeline(
        s.c, o,
        [&](uint64_t i) -> const Request& {
          return requests[i % requests.size()];
        },
        check);
    std::string w = "w" + item;
    Emit(k.label, w + ".answers_per_sec", r.per_sec);
    Emit(k.label, w + ".p50_us", r.p50_us);
    Emit(k.label, w + ".p99_us", r.p99_us);
    Emit(k.label, w + ".failed", double(r.failed));
    if (r.failed > 0) return 3;
    if (r.per_sec > peak) {
      peak = r.per_sec;
      best_window = o.window;
    }
  }
  Emit(k.label, "peak_answers_per_sec", peak);
  Emit(k.label, "peak_window", best_window);
  return peak > 0 ? 0 : 3;
}

// FLUSHALL, CONFIG SET, INFO field: what bench/run asks between steps.
int Admin(const Common& k, const std::vector<std::string>& args,
          const std::string& info_field) {
  redisContext* c = redisConnect(k.host.c_str(), k.port);
  if (c == nullptr || c->err) return 2;
  ReplyPtr r = Call(c, args);
  int rc = r && r->type != REDIS_REPLY_ERROR ? 0 : 3;
  if (rc == 0 && !info_field.empty() && r->type == REDIS_REPLY_STRING) {
    std::string text(r->str, r->len), key = info_field + ":";
    size_t at = text.find(key);
    if (at != std::string::npos) {
      size_t eol = text.find_first_of("\r\n", at);
      std::cout << text.substr(at + key.size(), eol - at - key.size()) << "\n";
    }
  } else if (rc == 0 && info_field.empty()) {
    // The reply's text: a string, or an array's strings one per line.
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
      std::cout << std::string(r->str, r->len) << "\n";
    } else if (r->type == REDIS_REPLY_ARRAY) {
      for (size_t j = 0; j < r->elements; ++j) {
        const redisReply* e = r->element[j];
        if (e->type == REDIS_REPLY_STRING) {
          std::cout << std::string(e->str, e->len) << "\n";
        }
      }
    }
  } else if (rc != 0) {
    std::cerr << "redis_bench: " << args[0] << " failed"
              << (r ? ": " + std::string(r->str ? r->str : "") : "") << "\n";
  }
  redisFree(c);
  return rc;
}

}  // namespace
}  // namespace crsp::bench

int main(int argc, char** argv) {
  using namespace crsp::bench;
  CLI::App app{"The CRSP edge job on Redis sorted sets"};
  app.require_subcommand(1);
  Common k;
  int window = 64;
  bool batch = false;
  auto common = [&](CLI::App* sub) {
    sub->add_option("--host", k.host);
    sub->add_option("--port", k.port);
    sub->add_option("--label", k.label);
    sub->add_option("--resources", k.resources);
    sub->add_option("--cpu", k.cpu, "CPU to pin to");
    sub->add_option("--tag", k.tag);
  };
  size_t devices = 0;
  auto* reg = app.add_subcommand("register", "devices x resources (MULTI)");
  common(reg);
  reg->add_option("--devices", devices)->required();
  reg->add_option("--first-device", k.first_device);
  reg->add_option("--window", window, "transactions in flight");
  reg->add_flag("--batch", batch, "W at once, then all answers");
  int max_results = 10;
  double seconds = 5;
  std::string windows = "4,16,64";
  long long expect = -1;
  auto* query = app.add_subcommand("query", "ZRANGEBYSCORE + ZCOUNT");
  common(query);
  query->add_option("--max-results", max_results);
  query->add_option("--seconds", seconds, "per window");
  query->add_option("--windows", windows, "queries in flight to try");
  query->add_flag("--batch", batch, "W at once, then all answers");
  query->add_option("--expect", expect, "offers per resource id (check)");
  std::vector<std::string> args;
  std::string info_field;
  auto* admin = app.add_subcommand("admin", "one command (FLUSHALL, ...)");
  common(admin);
  admin->add_option("args", args)->required();
  admin->add_option("--info-field", info_field, "print this INFO field");
  CLI11_PARSE(app, argc, argv);
  if (k.cpu >= 0) PinToCpu(k.cpu);
  if (*reg) return Register(k, devices, window, batch);
  if (*query) return Query(k, max_results, seconds, windows, batch, expect);
  return Admin(k, args, info_field);
}
