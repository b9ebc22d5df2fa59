// Many concurrent requests to etcd's v3 JSON gateway (grpc-gateway, the
// same port as gRPC) with libcurl's multi interface: `window` easy handles,
// each keeping its HTTP/1.1 connection alive, so no request pays for a
// connection. This is the fairest C++ client Debian packages for etcd.
#ifndef CRSP_BENCH_SUPPORT_ETCD_CLIENT_H_
#define CRSP_BENCH_SUPPORT_ETCD_CLIENT_H_

#include <cstdint>
#include <functional>
#include <string>

namespace crsp::bench {

std::string Base64(const std::string& bytes);
std::string Unbase64(const std::string& text);

struct HttpRunOptions {
  std::string base_url = "http://127.0.0.1:2379";
  int window = 32;
  size_t count = 0;    // requests in all (0: until `seconds`)
  double seconds = 0;  // measured time when count is 0
  double warmup_seconds = 0;
  double deadline_seconds = 600;
};

struct HttpRunResult {
  uint64_t done = 0;  // answered 200 and accepted by on_response
  uint64_t failed = 0;
  double seconds = 0;
  double per_sec = 0;
  double p50_us = 0;
  double p99_us = 0;
};

// Sends POST base_url + path with body from make(i) for i = 0, 1, ...;
// on_response(i, body) says whether the answer was right.
HttpRunResult RunHttp(
    const HttpRunOptions& options,
    const std::function<void(uint64_t, std::string* path, std::string* body)>&
        make,
    const std::function<bool(uint64_t, const std::string&)>& on_response);

// One POST, synchronously; the body, or empty on failure.
std::string HttpPost(const std::string& url, const std::string& body);

}  // namespace crsp::bench

#endif  // CRSP_BENCH_SUPPORT_ETCD_CLIENT_H_
