#include "etcd_client.h"

#include <curl/curl.h>

#include <array>
#include <vector>

#include "latency.h"
#include "net.h"

namespace crsp::bench {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct Slot {
  CURL* easy = nullptr;
  uint64_t index = 0;
  uint64_t sent_at = 0;
  std::string url;
  std::string body;
  std::string answer;
};

void Prepare(Slot& s, const std::string& base, curl_slist* headers) {
  curl_easy_setopt(s.easy, CURLOPT_URL, s.url.c_str());
  curl_easy_setopt(s.easy, CURLOPT_POSTFIELDS, s.body.c_str());
  curl_easy_setopt(s.easy, CURLOPT_POSTFIELDSIZE, long(s.body.size()));
  curl_easy_setopt(s.easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(s.easy, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(s.easy, CURLOPT_WRITEDATA, &s.answer);
  curl_easy_setopt(s.easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(s.easy, CURLOPT_TIMEOUT_MS, 10000L);
  (void)base;
}

}  // namespace

std::string Base64(const std::string& in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v =
        (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int k = 3; k >= 0; --k) out.push_back(kAlphabet[(v >> (6 * k)) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string Unbase64(const std::string& in) {
  static const std::array<int8_t, 256> table = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 64; ++i) t[uint8_t(kAlphabet[i])] = int8_t(i);
    return t;
  }();
  std::string out;
  out.reserve(in.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = table[uint8_t(c)];
    if (v < 0) continue;  // '=' and anything else
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((acc >> bits) & 0xFF));
    }
  }
  return out;
}

HttpRunResult RunHttp(
    const HttpRunOptions& options,
    const std::function<void(uint64_t, std::string*, std::string*)>& make,
    const std::function<bool(uint64_t, const std::string&)>& on_response) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_slist* headers =
      curl_slist_append(nullptr, "Content-Type: application/json");
  std::vector<Slot> slots(size_t(options.window));
  Latencies latencies;
  HttpRunResult r;
  const uint64_t start = NowNanos();
  const uint64_t measure_from = start + uint64_t(options.warmup_seconds * 1e9);
  const uint64_t end = options.count > 0
                           ? start + uint64_t(options.deadline_seconds * 1e9)
                           : measure_from + uint64_t(options.seconds * 1e9);
  uint64_t next = 0;
  uint64_t last_done = start;
  int running = 0;

  auto launch = [&](Slot& s) {
    if (options.count > 0 && next >= options.count) return false;
    if (NowNanos() >= end) return false;
    std::string path;
    s.index = next++;
    s.body.clear();
    s.answer.clear();
    make(s.index, &path, &s.body);
    s.url = options.base_url + path;
    Prepare(s, options.base_url, headers);
    s.sent_at = NowNanos();
    curl_multi_add_handle(multi, s.easy);
    return true;
  };
  for (Slot& s : slots) {
    s.easy = curl_easy_init();
    curl_easy_setopt(s.easy, CURLOPT_PRIVATE, &s);
    launch(s);
  }
  curl_multi_perform(multi, &running);
  while (running > 0) {
    curl_multi_poll(multi, nullptr, 0, 100, nullptr);
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      Slot* s = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &s);
      long code = 0;
      curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
      uint64_t at = NowNanos();
      bool ok = m->data.result == CURLE_OK && code == 200 &&
                on_response(s->index, s->answer);
      if (s->sent_at >= measure_from || options.count > 0) {
        if (ok) {
          ++r.done;
          latencies.Add(at - s->sent_at);
          last_done = at;
        } else {
          ++r.failed;
        }
      }
      curl_multi_remove_handle(multi, s->easy);
      if (launch(*s)) ++running;
    }
    if (running == 0) curl_multi_perform(multi, &running);
  }
  for (Slot& s : slots) curl_easy_cleanup(s.easy);
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  r.seconds =
      options.count > 0 ? double(last_done - start) * 1e-9 : options.seconds;
  r.per_sec = r.seconds > 0 ? double(r.done) / r.seconds : 0;
  r.p50_us = latencies.PercentileMicros(50);
  r.p99_us = latencies.PercentileMicros(99);
  return r;
}

std::string HttpPost(const std::string& url, const std::string& body) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL* easy = curl_easy_init();
  std::string answer;
  curl_slist* headers =
      curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L);
  long code = 0;
  if (curl_easy_perform(easy) != CURLE_OK) answer.clear();
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
  if (code != 200) answer.clear();
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);
  return answer;
}

}  // namespace crsp::bench
