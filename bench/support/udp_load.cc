#include "udp_load.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>

#include "crsp/protocol/wire.h"
#include "latency.h"
#include "net.h"

namespace crsp::bench {
namespace {

constexpr int kBatch = 64;

uint32_t TxidOf(const std::byte* p) {
  const auto* b = reinterpret_cast<const uint8_t*>(p + wire::kOffTxid);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) |
         (uint32_t{b[2]} << 8) | b[3];
}

}  // namespace

LoadResult RunLoad(int fd, const std::vector<std::vector<std::byte>>& requests,
                   const LoadOptions& options) {
  const size_t slots = requests.size();
  std::vector<uint64_t> sent_at(slots, 0);  // 0: free
  std::deque<uint32_t> free_slots;
  for (uint32_t i = 0; i < slots; ++i) free_slots.push_back(i);
  std::deque<std::pair<uint32_t, uint64_t>> in_order;  // for timeouts

  std::array<mmsghdr, kBatch> out{};
  std::array<iovec, kBatch> out_iov{};
  std::array<std::array<std::byte, wire::kMaxAnswer + 64>, kBatch> in_buf{};
  std::array<mmsghdr, kBatch> in{};
  std::array<iovec, kBatch> in_iov{};
  for (int i = 0; i < kBatch; ++i) {
    in_iov[i] = {in_buf[i].data(), in_buf[i].size()};
    in[i].msg_hdr.msg_iov = &in_iov[i];
    in[i].msg_hdr.msg_iovlen = 1;
  }

  Latencies latencies;
  LoadResult r;
  const uint64_t start = NowNanos();
  const uint64_t measure_from =
      start + static_cast<uint64_t>(options.warmup_seconds * 1e9);
  const uint64_t end =
      measure_from + static_cast<uint64_t>(options.seconds * 1e9);
  uint64_t sent_total = 0;
  int in_flight = 0;
  std::array<uint32_t, kBatch> batch_slots{};

  for (uint64_t now = NowNanos(); now < end; now = NowNanos()) {
    // Send what the window and the rate allow.
    int can = std::min(options.window - in_flight, kBatch);
    if (options.rate > 0) {
      double due = static_cast<double>(now - start) * 1e-9 * options.rate;
      can = std::min<int64_t>(
          can, static_cast<int64_t>(due) - static_cast<int64_t>(sent_total));
    }
    can = std::min<int>(can, static_cast<int>(free_slots.size()));
    int n = 0;
    for (; n < can; ++n) {
      uint32_t slot = free_slots.front();
      free_slots.pop_front();
      batch_slots[n] = slot;
      out_iov[n] = {const_cast<std::byte*>(requests[slot].data()),
                    requests[slot].size()};
      out[n].msg_hdr = {};
      out[n].msg_hdr.msg_iov = &out_iov[n];
      out[n].msg_hdr.msg_iovlen = 1;
    }
    int sent = n > 0 ? sendmmsg(fd, out.data(), n, 0) : 0;
    if (sent < 0) sent = 0;
    for (int i = 0; i < n; ++i) {
      uint32_t slot = batch_slots[i];
      if (i >= sent) {  // not sent (buffer full): back in front
        free_slots.push_front(slot);
        continue;
      }
      sent_at[slot] = now;
      in_order.emplace_back(slot, now);
      ++in_flight;
      ++sent_total;
      if (now >= measure_from) ++r.sent;
    }

    // Receive whatever has arrived.
    int got = recvmmsg(fd, in.data(), kBatch, MSG_DONTWAIT, nullptr);
    uint64_t at = NowNanos();
    for (int i = 0; i < got; ++i) {
      if (in[i].msg_len < wire::kHeaderSize) continue;
      uint32_t slot = TxidOf(in_buf[i].data());
      if (slot >= slots || sent_at[slot] == 0) continue;  // late or foreign
      uint64_t t0 = sent_at[slot];
      sent_at[slot] = 0;
      free_slots.push_back(slot);
      --in_flight;
      r.answer_bytes = in[i].msg_len;
      if (at >= measure_from) {
        ++r.answered;
        bool ok = static_cast<uint8_t>(in_buf[i][wire::kOffStatus]) == 0;
        if (ok) ++r.ok;
      }
      if (t0 >= measure_from) latencies.Add(at - t0);
    }

    // Time out the oldest requests.
    while (!in_order.empty()) {
      auto [slot, t0] = in_order.front();
      if (sent_at[slot] != t0) {  // answered already
        in_order.pop_front();
        continue;
      }
      if (at - t0 < options.timeout_nanos) break;
      in_order.pop_front();
      sent_at[slot] = 0;
      free_slots.push_back(slot);
      --in_flight;
      if (t0 >= measure_from) ++r.lost;
    }

    if (!options.busy_poll && got <= 0 && sent == 0) {
      pollfd p{fd, POLLIN, 0};
      poll(&p, 1, 1);
    }
  }
  r.seconds = options.seconds;
  r.answers_per_sec = static_cast<double>(r.ok) / options.seconds;
  r.p50_us = latencies.PercentileMicros(50);
  r.p99_us = latencies.PercentileMicros(99);
  r.p999_us = latencies.PercentileMicros(99.9);
  return r;
}

size_t Drain(int fd, int quiet_ms, int max_ms) {
  std::array<std::byte, 2048> buf{};
  size_t dropped = 0;
  const uint64_t end = NowNanos() + uint64_t(max_ms) * 1'000'000;
  uint64_t last = NowNanos();
  while (NowNanos() < end &&
         NowNanos() - last < uint64_t(quiet_ms) * 1'000'000) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    while (recv(fd, buf.data(), buf.size(), MSG_DONTWAIT) >= 0) ++dropped;
    last = NowNanos();
  }
  return dropped;
}

}  // namespace crsp::bench
