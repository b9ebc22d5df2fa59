// A trivial UDP server, the physical limit of the machine for the edge
// benchmark: it answers every datagram with one of a fixed size (the size of
// the node's query answer), carrying the request's header (txid) and status
// OK, using recvmmsg/sendmmsg. It does no other work.
//   echo_server --port P --answer-size N [--cpu C] [--max-seconds S]
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <csignal>
#include <cstring>
#include <iostream>
#include <vector>

#include "crsp/protocol/wire.h"
#include "support/net.h"

namespace {

volatile std::sig_atomic_t stop = 0;
void OnSignal(int) { stop = 1; }

constexpr int kBatch = 64;

}  // namespace

int main(int argc, char** argv) {
  using namespace crsp;
  CLI::App app{"UDP echo server of fixed-size answers"};
  uint16_t port = 0;
  size_t answer_size = 64;
  int cpu = -1;
  double max_seconds = 3600;
  app.add_option("--port", port, "UDP port on [::]")->required();
  app.add_option("--answer-size", answer_size, "bytes per answer")
      ->check(CLI::Range(size_t{16}, wire::kMaxAnswer));
  app.add_option("--cpu", cpu, "CPU to pin to");
  app.add_option("--max-seconds", max_seconds, "exit after this long");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  if (cpu >= 0 && !bench::PinToCpu(cpu)) std::cerr << "echo: not pinned\n";

  int fd = bench::OpenUdpSocket(port);
  std::vector<std::array<std::byte, 2048>> in_buf(kBatch);
  std::vector<std::vector<std::byte>> out_buf(
      kBatch, std::vector<std::byte>(answer_size));
  std::array<sockaddr_in6, kBatch> from{};
  std::array<iovec, kBatch> in_iov{}, out_iov{};
  std::array<mmsghdr, kBatch> in{}, out{};
  const uint64_t end =
      bench::NowNanos() + static_cast<uint64_t>(max_seconds * 1e9);
  while (stop == 0 && bench::NowNanos() < end) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    for (int i = 0; i < kBatch; ++i) {
      in_iov[i] = {in_buf[i].data(), in_buf[i].size()};
      in[i].msg_hdr = {};
      in[i].msg_hdr.msg_name = &from[i];
      in[i].msg_hdr.msg_namelen = sizeof from[i];
      in[i].msg_hdr.msg_iov = &in_iov[i];
      in[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, in.data(), kBatch, MSG_DONTWAIT, nullptr);
    int m = 0;
    for (int i = 0; i < n; ++i) {
      if (in[i].msg_len < wire::kHeaderSize) continue;
      std::memcpy(out_buf[m].data(), in_buf[i].data(), wire::kHeaderSize);
      out_buf[m][wire::kOffType] =
          std::byte(static_cast<uint8_t>(in_buf[i][wire::kOffType]) + 1);
      out_buf[m][wire::kOffStatus] = std::byte{0};
      out_iov[m] = {out_buf[m].data(), answer_size};
      out[m].msg_hdr = {};
      out[m].msg_hdr.msg_name = &from[i];
      out[m].msg_hdr.msg_namelen = in[i].msg_hdr.msg_namelen;
      out[m].msg_hdr.msg_iov = &out_iov[m];
      out[m].msg_hdr.msg_iovlen = 1;
      ++m;
    }
    if (m > 0) sendmmsg(fd, out.data(), m, 0);
  }
  close(fd);
  return 0;
}
