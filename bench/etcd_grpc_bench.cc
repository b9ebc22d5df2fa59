// Range reads on etcd through its native gRPC API (etcdserverpb.KV/Range),
// the way a Go or C++ etcd client reads, at a given number of requests in
// flight: the same keys etcd_bench registered (/crsp/o/RRRR/PRICE/...,
// value = the 72-byte offer), one serializable range read of the resource
// id's prefix per query, --page-limit keys (10: one page is the answer,
// since the key order is the answer order; etcd also returns `count`, the
// number of keys in the range: the exact total), --page-limit 0 the whole
// prefix.
//
// Why no generated stub: the C++ code protoc generates from etcd's
// rpc.proto (Debian's golang-etcd-server-dev) and its imports is 1.2 MB
// (rpc.pb.cc alone 890 KB), minutes of a 2-core machine in every fresh
// build (CI's --quick run too), for two messages. The client
// calls the same method with grpc::GenericStub over one HTTP/2 channel and
// writes and reads the two messages itself (RangeRequest fields 1, 2, 3, 7
// and RangeResponse fields 2, 4, KeyValue field 5 of etcd 3.4's rpc.proto
// and kv.proto): the bytes on the wire are those of a generated client.
//   etcd_grpc_bench query --endpoint 127.0.0.1:2379 --windows 4,16,64 ...
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "crsp/support/clock.h"
#include "support/latency.h"
#include "support/net.h"
#include "support/report.h"
#include "support/workload.h"

namespace crsp::bench {
namespace {

void PutVarint(std::string& s, uint64_t v) {
  while (v >= 0x80) {
    s.push_back(char(v | 0x80));
    v >>= 7;
  }
  s.push_back(char(v));
}

void PutBytesField(std::string& s, int field, const std::string& v) {
  PutVarint(s, uint64_t(field) << 3 | 2);
  PutVarint(s, v.size());
  s += v;
}

// Protobuf wire reading that never reads past the end: false when the
// input is malformed.
class WireReader {
 public:
  explicit WireReader(std::string_view in) : in_(in) {}
  bool done() const { return at_ >= in_.size(); }
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ >= in_.size()) return false;
      uint8_t b = uint8_t(in_[at_++]);
      *v |= uint64_t(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  // The next field: its number, wire type, and (type 2) its bytes; other
  // types are skipped.
  bool Field(int* number, int* type, std::string_view* bytes) {
    uint64_t key = 0, v = 0;
    if (!Varint(&key)) return false;
    *number = int(key >> 3);
    *type = int(key & 7);
    switch (*type) {
      case 0:
        return Varint(&v) && (last_varint_ = v, true);
      case 1:
        return Skip(8);
      case 5:
        return Skip(4);
      case 2:
        if (!Varint(&v) || v > in_.size() - at_) return false;
        *bytes = in_.substr(at_, size_t(v));
        at_ += size_t(v);
        return true;
      default:
        return false;
    }
  }
  uint64_t last_varint() const { return last_varint_; }

 private:
  bool Skip(size_t n) {
    if (n > in_.size() - at_) return false;
    at_ += n;
    return true;
  }
  std::string_view in_;
  size_t at_ = 0;
  uint64_t last_varint_ = 0;
};

std::string Prefix(uint16_t resource) {
  char b[32];
  std::snprintf(b, sizeof b, "/crsp/o/%04x/", resource);
  return b;
}

std::string RangeRequest(uint16_t resource, int64_t limit) {
  std::string prefix = Prefix(resource), end = prefix, s;
  end.back() = char(end.back() + 1);
  PutBytesField(s, 1, prefix);
  PutBytesField(s, 2, end);
  if (limit > 0) {
    PutVarint(s, 3 << 3 | 0);
    PutVarint(s, uint64_t(limit));
  }
  PutVarint(s, 7 << 3 | 0);  // serializable: a local read, as CRSP's
  PutVarint(s, 1);
  return s;
}

// Checks a RangeResponse: every value a 72-byte offer valid now, at most
// `limit` of them (all when 0), and `count` == expect (when >= 0).
bool CheckRange(std::string_view msg, int64_t limit, int64_t expect,
                uint64_t now) {
  WireReader r(msg);
  int64_t values = 0;
  uint64_t count = 0;
  int number = 0, type = 0;
  std::string_view bytes;
  while (!r.done()) {
    if (!r.Field(&number, &type, &bytes)) return false;
    if (number == 4 && type == 0) count = r.last_varint();
    if (number != 2 || type != 2) continue;
    WireReader kv(bytes);
    while (!kv.done()) {
      std::string_view value;
      if (!kv.Field(&number, &type, &value)) return false;
      if (number != 5 || type != 2) continue;
      if (value.size() != 72) return false;
      std::string offer(value);
      if (GetBigEndian(offer, 56, 8) > now || GetBigEndian(offer, 64, 8) <= now)
        return false;
      ++values;
    }
  }
  if (limit > 0 && values > limit) return false;
  if (expect >= 0 && int64_t(count) != expect) return false;
  return limit > 0 ? values == std::min<int64_t>(limit, int64_t(count))
                   : values == int64_t(count);
}

struct Call {
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;
  grpc::ByteBuffer response;
  grpc::Status status;
  uint64_t sent_at = 0;
};

int Query(const std::string& endpoint, const std::vector<uint16_t>& resources,
          int64_t page_limit, double seconds, const std::string& windows,
          int64_t expect, const std::string& label) {
  auto channel =
      grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                 std::chrono::seconds(10))) {
    std::cerr << "etcd_grpc_bench: cannot connect to " << endpoint << "\n";
    return 2;
  }
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  std::vector<grpc::ByteBuffer> requests;
  for (uint16_t r : resources) {
    std::string bytes = RangeRequest(r, page_limit);
    grpc::Slice slice(bytes);
    requests.emplace_back(&slice, 1);
  }
  const std::string method = "/etcdserverpb.KV/Range";
  double peak = 0;
  int best_window = 0;
  std::stringstream ws(windows);
  for (std::string item; std::getline(ws, item, ',');) {
    const int window = std::stoi(item);
    std::vector<Call> calls(static_cast<size_t>(window));
    Latencies latencies;
    uint64_t next = 0, done = 0, failed = 0;
    const uint64_t start = NowNanos();
    const uint64_t measure_from = start + 500'000'000;
    const uint64_t end = measure_from + uint64_t(seconds * 1e9);
    int in_flight = 0;
    auto launch = [&](size_t slot) {
      Call& c = calls[slot];
      c.context = std::make_unique<grpc::ClientContext>();
      c.response.Clear();
      c.reader = stub.PrepareUnaryCall(c.context.get(), method,
                                       requests[next++ % requests.size()], &cq);
      c.sent_at = NowNanos();
      c.reader->StartCall();
      c.reader->Finish(&c.response, &c.status, reinterpret_cast<void*>(slot));
      ++in_flight;
    };
    for (size_t slot = 0; slot < calls.size(); ++slot) launch(slot);
    void* tag = nullptr;
    bool ok = false;
    std::vector<grpc::Slice> slices;
    while (in_flight > 0 && cq.Next(&tag, &ok)) {
      --in_flight;
      const size_t slot = reinterpret_cast<size_t>(tag);
      Call& c = calls[slot];
      const uint64_t at = NowNanos();
      bool good = ok && c.status.ok();
      if (good) {
        slices.clear();
        std::string msg;
        good = c.response.Dump(&slices).ok();
        for (const grpc::Slice& s : slices) {
          msg.append(reinterpret_cast<const char*>(s.begin()), s.size());
        }
        good = good && CheckRange(msg, page_limit, expect, support::UnixSeconds());
      }
      if (c.sent_at >= measure_from && at <= end) {
        if (good) {
          ++done;
          latencies.Add(at - c.sent_at);
        } else {
          ++failed;
        }
      }
      if (at < end) launch(slot);
    }
    const double per_sec = double(done) / seconds;
    const std::string w = "w" + item;
    Emit(label, w + ".answers_per_sec", per_sec);
    Emit(label, w + ".p50_us", latencies.PercentileMicros(50));
    Emit(label, w + ".p99_us", latencies.PercentileMicros(99));
    Emit(label, w + ".failed", double(failed));
    if (failed > 0) {
      std::cerr << "etcd_grpc_bench: " << failed << " bad answers\n";
      return 3;
    }
    if (per_sec > peak) {
      peak = per_sec;
      best_window = window;
    }
  }
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
  Emit(label, "peak_answers_per_sec", peak);
  Emit(label, "peak_window", best_window);
  return peak > 0 ? 0 : 3;
}

}  // namespace
}  // namespace crsp::bench

int main(int argc, char** argv) {
  using namespace crsp::bench;
  CLI::App app{"etcd range reads over gRPC"};
  app.require_subcommand(1);
  std::string endpoint = "127.0.0.1:2379", label = "etcd_grpc";
  std::string windows = "4,16,64";
  size_t resources = 4;
  int64_t page_limit = 10, expect = -1;
  double seconds = 4;
  int cpu = -1;
  auto* query = app.add_subcommand("query", "range reads");
  query->add_option("--endpoint", endpoint, "HOST:PORT of etcd's client URL");
  query->add_option("--label", label);
  query->add_option("--resources", resources);
  query->add_option("--page-limit", page_limit, "keys per read; 0: all");
  query->add_option("--windows", windows, "reads in flight to try");
  query->add_option("--seconds", seconds, "per window");
  query->add_option("--expect", expect, "keys per resource id (check)");
  query->add_option("--cpu", cpu, "CPU to pin to");
  CLI11_PARSE(app, argc, argv);
  if (cpu >= 0) PinToCpu(cpu);
  return Query(endpoint, BenchResources(resources), page_limit, seconds,
               windows, expect, label);
}
