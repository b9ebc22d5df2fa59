#include "registrar.h"

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <unordered_map>

#include "crsp/protocol/codec.h"
#include "latency.h"
#include "net.h"

namespace crsp::bench {
namespace {

struct Pending {
  std::vector<std::byte> bytes;
  uint64_t first_sent = 0;
  uint64_t last_sent = 0;
  int tries = 0;
  size_t target = 0;
};

bool SendTo(int fd, const sockaddr_in6& to, const std::vector<std::byte>& b) {
  return sendto(fd, b.data(), b.size(), 0,
                reinterpret_cast<const sockaddr*>(&to), sizeof to) >= 0;
}

}  // namespace

RegisterResult RunRegistrations(
    int fd, const std::vector<sockaddr_in6>& targets, size_t count,
    const std::function<std::vector<std::byte>(uint32_t)>& make,
    const RegisterOptions& options) {
  RegisterResult r;
  Latencies latencies;
  std::unordered_map<uint32_t, Pending> pending;
  std::array<std::byte, 2048> buf{};
  const uint64_t start = NowNanos();
  const uint64_t deadline =
      start + static_cast<uint64_t>(options.deadline_seconds * 1e9);
  uint64_t last_answer = start;
  uint32_t next = 0;
  uint64_t last_scan = start;

  while (true) {
    uint64_t now = NowNanos();
    bool stopping =
        now >= deadline || (options.stop != nullptr && options.stop->load());
    if ((next >= count || stopping) && pending.empty()) break;
    // A bounded drain: stragglers get one resend timeout after stopping.
    if (stopping && now >= deadline + options.resend_nanos) break;

    while (!stopping && next < count &&
           static_cast<int>(pending.size()) < options.window) {
      if (options.rate > 0 &&
          static_cast<double>(next) >
              static_cast<double>(now - start) * 1e-9 * options.rate) {
        break;
      }
      Pending p{make(next), now, now, 1, next % targets.size()};
      SendTo(fd, targets[p.target], p.bytes);
      pending.emplace(next, std::move(p));
      ++next;
      ++r.requests;
    }

    pollfd pfd{fd, POLLIN, 0};
    poll(&pfd, 1, 1);
    for (int i = 0; i < 256; ++i) {
      ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n < 0) break;
      protocol::DecodeResult d = protocol::Decode(
          std::span<const std::byte>(buf.data(), static_cast<size_t>(n)));
      auto it = pending.find(d.packet.header.txid);
      if (it == pending.end()) continue;
      uint64_t at = NowNanos();
      last_answer = at;
      latencies.Add(at - it->second.first_sent);
      const auto* body = std::get_if<protocol::RegisterAnswer>(&d.packet.body);
      bool all_ok = d.status == wire::Status::kOk && body != nullptr &&
                    d.packet.header.status == wire::Status::kOk;
      if (body != nullptr) {
        for (const auto& e : body->entries) {
          if (e.status == wire::Status::kOk) {
            ++r.entries_ok;
          } else {
            ++r.entries_failed;
            all_ok = false;
            if (r.first_bad_status < 0) r.first_bad_status = int(e.status);
          }
        }
      } else {
        ++r.entries_failed;
        if (r.first_bad_status < 0) {
          r.first_bad_status = int(d.packet.header.status);
        }
      }
      if (all_ok) ++r.requests_ok;
      pending.erase(it);
    }

    if (now - last_scan > 20'000'000) {  // resends, every 20 ms
      last_scan = now;
      for (auto it = pending.begin(); it != pending.end();) {
        Pending& p = it->second;
        if (now - p.last_sent < options.resend_nanos) {
          ++it;
          continue;
        }
        if (p.tries >= options.tries) {
          ++r.unanswered;
          it = pending.erase(it);
          continue;
        }
        ++p.tries;
        p.last_sent = now;
        SendTo(fd, targets[p.target], p.bytes);
        ++it;
      }
    }
  }
  r.seconds = static_cast<double>(last_answer - start) * 1e-9;
  r.entries_per_sec =
      r.seconds > 0 ? static_cast<double>(r.entries_ok) / r.seconds : 0;
  r.p50_ms = latencies.PercentileMicros(50) / 1000.0;
  r.p99_ms = latencies.PercentileMicros(99) / 1000.0;
  return r;
}

}  // namespace crsp::bench
