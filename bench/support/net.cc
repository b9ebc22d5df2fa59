#include "net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "crsp/support/endpoint.h"

namespace crsp::bench {

std::optional<sockaddr_in6> ParseEndpoint(const std::string& text) {
  support::Result<support::Endpoint> endpoint =
      support::ParseEndpoint(text, support::EndpointRules{});
  if (!endpoint) return std::nullopt;
  return support::ToSockaddr(*endpoint);
}

int OpenUdpSocket(uint16_t bind_port, const sockaddr_in6* peer) {
  int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    throw std::runtime_error(std::string("socket: ") + strerror(errno));
  int size = 8 << 20;
  // FORCE passes rmem_max as root; the plain call is the fallback.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }
  sockaddr_in6 local{};
  local.sin6_family = AF_INET6;
  local.sin6_addr = in6addr_any;
  local.sin6_port = htons(bind_port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    std::string why = strerror(errno);
    close(fd);
    throw std::runtime_error("bind: " + why);
  }
  if (peer != nullptr &&
      connect(fd, reinterpret_cast<const sockaddr*>(peer), sizeof *peer) != 0) {
    std::string why = strerror(errno);
    close(fd);
    throw std::runtime_error("connect: " + why);
  }
  return fd;
}

bool PinToCpu(int cpu) {
  if (cpu < 0) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;
}

uint64_t NowNanos() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

}  // namespace crsp::bench
