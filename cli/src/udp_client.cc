#include "udp_client.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "crsp/protocol/wire.h"

namespace crsp::cli {
namespace {

using Clock = std::chrono::steady_clock;

enum class State { kPending, kAnswered, kDead };

struct Slot {
  int fd = -1;
  State state = State::kPending;
  Clock::time_point sent_at;
};

int OpenConnected(const Endpoint& ep) {
  int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons(ep.port);
  std::memcpy(&addr.sin6_addr, ep.address.data(), 16);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::vector<std::optional<UdpReply>> UdpClient::Exchange(
    std::span<const Endpoint> endpoints, std::span<const std::byte> request,
    const Accept& accept, const RetryPolicy& policy) {
  std::vector<std::optional<UdpReply>> replies(endpoints.size());
  std::vector<Slot> slots(endpoints.size());
  for (size_t i = 0; i < endpoints.size(); ++i) {
    slots[i].fd = OpenConnected(endpoints[i]);
    if (slots[i].fd < 0) slots[i].state = State::kDead;
  }
  auto pending = [&] {
    return std::count_if(slots.begin(), slots.end(), [](const Slot& s) {
      return s.state == State::kPending;
    });
  };
  std::vector<std::byte> buf(wire::kMaxDatagram);
  std::chrono::milliseconds timeout = policy.first_timeout;
  std::optional<Clock::time_point> grace_end;

  for (int attempt = 0; attempt < policy.tries && pending() > 0; ++attempt) {
    auto now = Clock::now();
    for (auto& s : slots) {
      if (s.state != State::kPending) continue;
      s.sent_at = now;
      if (send(s.fd, request.data(), request.size(), 0) < 0 &&
          errno == ECONNREFUSED) {
        s.state = State::kDead;
      }
    }
    auto deadline = now + timeout;
    timeout *= 2;
    while (pending() > 0) {
      auto until = grace_end ? std::min(deadline, *grace_end) : deadline;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - Clock::now());
      if (left.count() < 0) break;
      std::vector<pollfd> fds;
      std::vector<size_t> index;
      for (size_t i = 0; i < slots.size(); ++i) {
        if (slots[i].state != State::kPending) continue;
        fds.push_back({slots[i].fd, POLLIN, 0});
        index.push_back(i);
      }
      int rc = poll(fds.data(), fds.size(), static_cast<int>(left.count()) + 1);
      if (rc < 0 && errno != EINTR) break;
      for (size_t k = 0; k < fds.size(); ++k) {
        if (fds[k].revents == 0) continue;
        Slot& s = slots[index[k]];
        ssize_t n = recv(s.fd, buf.data(), buf.size(), 0);
        if (n < 0) {
          if (errno == ECONNREFUSED) s.state = State::kDead;
          continue;
        }
        std::span<const std::byte> got(buf.data(), static_cast<size_t>(n));
        if (!accept(got)) continue;  // a stray or damaged datagram
        s.state = State::kAnswered;
        auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(
            Clock::now() - s.sent_at);
        replies[index[k]] = UdpReply{{got.begin(), got.end()}, rtt};
        if (policy.stop_after_first && !grace_end) {
          grace_end = Clock::now() + std::max<Clock::duration>(
                                         rtt, std::chrono::milliseconds(20));
        }
      }
    }
    if (grace_end && Clock::now() >= *grace_end) break;
  }
  for (auto& s : slots) {
    if (s.fd >= 0) close(s.fd);
  }
  return replies;
}

}  // namespace crsp::cli
