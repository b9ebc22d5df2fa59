#include "udp_server.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "crsp/protocol/wire.h"

namespace crsp::node {
namespace {

constexpr int kBatch = 32;  // datagrams per recvmmsg
constexpr int kSocketBufferBytes = 4 << 20;

std::string ErrnoText(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// Answers given while Run handles one received batch, on Run's thread: sent
// together with one sendmmsg after the batch instead of one sendto each.
struct PendingAnswers {
  const void* socket = nullptr;  // the Socket these answers leave from
  std::vector<std::vector<std::byte>> answers;
  std::vector<sockaddr_in6> to;
  // sendmmsg's arguments, kept so that a batch allocates none.
  std::vector<iovec> iov;
  std::vector<mmsghdr> msgs;
};
// Set only on Run's thread while it handles a batch; replies made on other
// threads (a register answered once the DHT confirms) see nullptr and send
// at once.
thread_local PendingAnswers* pending_answers = nullptr;

// Sends what `pending` holds; a datagram the kernel refuses (full buffer)
// is dropped, as a sendto with MSG_DONTWAIT would drop it.
void SendAll(int fd, PendingAnswers& pending) {
  const size_t count = pending.answers.size();
  pending.iov.resize(count);
  pending.msgs.resize(count);
  for (size_t i = 0; i < count; ++i) {
    pending.iov[i] = {pending.answers[i].data(), pending.answers[i].size()};
    msghdr& header = pending.msgs[i].msg_hdr;
    header = {};
    header.msg_name = &pending.to[i];
    header.msg_namelen = sizeof(sockaddr_in6);
    header.msg_iov = &pending.iov[i];
    header.msg_iovlen = 1;
  }
  size_t sent = 0;
  while (sent < count) {  // each round sends or skips at least one
    int n = sendmmsg(fd, pending.msgs.data() + sent,
                     static_cast<unsigned>(count - sent), MSG_DONTWAIT);
    sent += n > 0 ? static_cast<size_t>(n) : 1;
  }
  pending.answers.clear();
  pending.to.clear();
}

}  // namespace

// Owns the descriptor; closed when the server and every pending reply are
// gone, so a late reply never writes to a reused descriptor.
struct UdpServer::Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) close(fd);
  }
};

UdpServer::UdpServer(const std::string& listen)
    : socket_(std::make_shared<Socket>()) {
  support::Result<support::Endpoint> endpoint =
      support::ParseEndpoint(listen, kListenRules);
  if (!endpoint) {
    throw std::runtime_error("--listen: " + endpoint.status().message());
  }
  sockaddr_in6 addr = support::ToSockaddr(*endpoint);
  socket_->fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (socket_->fd < 0) throw std::runtime_error(ErrnoText("socket"));
  int off = 0;
  // Dual stack: IPv4 clients arrive as mapped addresses.
  setsockopt(socket_->fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  int buf = kSocketBufferBytes;
  setsockopt(socket_->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(socket_->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  if (bind(socket_->fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error(ErrnoText(("bind " + listen).c_str()));
  }
  sockaddr_in6 bound{};
  socklen_t len = sizeof bound;
  getsockname(socket_->fd, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.sin6_port);
}

UdpServer::~UdpServer() = default;

std::string UdpServer::address() const {
  sockaddr_in6 bound{};
  socklen_t len = sizeof bound;
  getsockname(socket_->fd, reinterpret_cast<sockaddr*>(&bound), &len);
  return support::FormatEndpoint(support::FromSockaddr(bound));
}

void UdpServer::SendTo(const Sender& to,
                       std::span<const std::byte> datagram) const {
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  std::memcpy(&addr.sin6_addr, to.address.data(), 16);
  addr.sin6_port = htons(to.port);
  sendto(socket_->fd, datagram.data(), datagram.size(), MSG_DONTWAIT,
         reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
}

void UdpServer::Run(const Handler& handle, const std::function<void()>& tick,
                    std::chrono::milliseconds tick_every) {
  // One buffer per batch slot, each as large as any accepted datagram (+1
  // to notice larger ones, which the kernel truncates: MSG_TRUNC).
  std::vector<std::array<std::byte, wire::kMaxDatagram + 1>> buffers(kBatch);
  std::array<sockaddr_in6, kBatch> sources{};
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> msgs{};
  auto next_tick = std::chrono::steady_clock::now() + tick_every;
  const int fd = socket_->fd;
  PendingAnswers pending;
  pending.socket = socket_.get();

  while (!stop_) {
    pollfd p{fd, POLLIN, 0};
    auto now = std::chrono::steady_clock::now();
    int wait_ms = static_cast<int>(std::max<int64_t>(
        0,
        std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - now)
            .count()));
    int ready = poll(&p, 1, std::min(wait_ms, 200));
    if (std::chrono::steady_clock::now() >= next_tick) {
      tick();
      next_tick = std::chrono::steady_clock::now() + tick_every;
    }
    if (ready <= 0) continue;

    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {buffers[i].data(), buffers[i].size()};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_name = &sources[i];
      msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in6);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    pending_answers = &pending;
    for (int i = 0; i < n; ++i) {
      size_t len = msgs[i].msg_len;
      // Larger than a node accepts: dropped, as no valid packet is.
      if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) || len > wire::kMaxDatagram) {
        continue;
      }
      Sender from;
      std::memcpy(from.address.data(), &sources[i].sin6_addr, 16);
      from.port = ntohs(sources[i].sin6_port);
      // Counted here, in the one function object the reply is anyway: no
      // allocation more per request (docs/metrics.md "Cost").
      const RequestType type =
          len > wire::kOffType
              ? RequestTypeOf(
                    static_cast<uint8_t>(buffers[i][wire::kOffProtocol]),
                    static_cast<uint8_t>(buffers[i][wire::kOffType]))
              : RequestType::kOther;
      ReplyFn reply = [socket = socket_, to = sources[i], metrics = metrics_,
                       type](std::vector<std::byte> answer) {
        if (metrics != nullptr) {
          metrics->Answered(
              type,
              answer.size() > wire::kOffStatus
                  ? static_cast<wire::Status>(answer[wire::kOffStatus])
                  : wire::Status::kMalformed,
              answer.size());
        }
        PendingAnswers* batch = pending_answers;
        if (batch != nullptr && batch->socket == socket.get()) {
          batch->answers.push_back(std::move(answer));
          batch->to.push_back(to);
          return;
        }
        sendto(socket->fd, answer.data(), answer.size(), MSG_DONTWAIT,
               reinterpret_cast<const sockaddr*>(&to), sizeof to);
      };
      handle(std::span<const std::byte>(buffers[i].data(), len), from,
             std::move(reply));
    }
    pending_answers = nullptr;
    if (!pending.answers.empty()) SendAll(fd, pending);
  }
}

}  // namespace crsp::node
