// UdpClient against real UDP sockets on [::1]: a responder thread that
// drops the first datagrams it gets, a silent socket, and a closed port.
#include "udp_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

namespace crsp::cli {
namespace {

using std::chrono::milliseconds;

// A UDP socket bound to [::1]:0.
struct BoundSocket {
  BoundSocket() {
    fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    endpoint.address[15] = 1;
    endpoint.port = ntohs(a.sin6_port);
  }
  ~BoundSocket() { close(fd); }
  int fd;
  Endpoint endpoint;
};

// Answers "answer" to the `drop`+1-th datagram; counts what it received.
class Responder {
 public:
  explicit Responder(int drop) : drop_(drop) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~Responder() {
    stop_ = true;
    thread_.join();
  }
  const Endpoint& endpoint() const { return socket_.endpoint; }
  int received() const { return received_; }
  bool all_identical() const { return all_identical_; }

 private:
  void Loop() {
    std::string first;
    while (!stop_) {
      pollfd p{socket_.fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char buf[256];
      sockaddr_in6 from{};
      socklen_t len = sizeof from;
      ssize_t n = recvfrom(socket_.fd, buf, sizeof buf, 0,
                           reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) continue;
      std::string got(buf, n);
      if (received_ == 0) first = got;
      all_identical_ = all_identical_ && got == first;
      if (received_++ < drop_) continue;
      sendto(socket_.fd, "junk", 4, 0, reinterpret_cast<sockaddr*>(&from), len);
      sendto(socket_.fd, "answer", 6, 0, reinterpret_cast<sockaddr*>(&from),
             len);
    }
  }
  BoundSocket socket_;
  int drop_;
  std::atomic<int> received_{0};
  std::atomic<bool> all_identical_{true};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::span<const std::byte> Bytes(const char* s) {
  return std::as_bytes(std::span(s, std::strlen(s)));
}

bool IsAnswer(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size()) ==
         "answer";
}

TEST(UdpClient, ResendsTheSameBytesUntilAnAcceptedAnswerArrives) {
  Responder responder(/*drop=*/2);
  RetryPolicy policy{4, milliseconds(50), false};
  auto replies = UdpClient::Exchange(std::span(&responder.endpoint(), 1),
                                     Bytes("request"), IsAnswer, policy);
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_TRUE(replies[0]);
  EXPECT_TRUE(IsAnswer(replies[0]->bytes));  // "junk" was skipped
  EXPECT_EQ(responder.received(), 3);
  EXPECT_TRUE(responder.all_identical());
}

TEST(UdpClient, GivesUpAfterItsTriesOnASilentNode) {
  BoundSocket silent;
  RetryPolicy policy{3, milliseconds(20), false};
  auto start = std::chrono::steady_clock::now();
  auto replies = UdpClient::Exchange(std::span(&silent.endpoint, 1),
                                     Bytes("request"), IsAnswer, policy);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(replies[0]);
  EXPECT_GE(took, milliseconds(20 + 40 + 80));
  EXPECT_LT(took, milliseconds(2000));
  // Three sends arrived.
  int count = 0;
  char buf[64];
  while (recv(silent.fd, buf, sizeof buf, MSG_DONTWAIT) > 0) ++count;
  EXPECT_EQ(count, 3);
}

TEST(UdpClient, AClosedPortCountsAsNoAnswerAtOnce) {
  Endpoint closed;
  {
    BoundSocket s;
    closed = s.endpoint;
  }  // closed now
  RetryPolicy policy{4, milliseconds(500), false};
  auto start = std::chrono::steady_clock::now();
  auto replies = UdpClient::Exchange(std::span(&closed, 1), Bytes("request"),
                                     IsAnswer, policy);
  EXPECT_FALSE(replies[0]);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(400));
}

TEST(UdpClient, AsksSeveralNodesAtOnceAndReportsEach) {
  Responder live(0);
  BoundSocket silent;
  std::vector<Endpoint> eps = {silent.endpoint, live.endpoint()};
  RetryPolicy policy{2, milliseconds(50), true};
  auto replies = UdpClient::Exchange(eps, Bytes("ping"), IsAnswer, policy);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_FALSE(replies[0]);
  ASSERT_TRUE(replies[1]);
  EXPECT_LT(replies[1]->rtt, milliseconds(50));
}

}  // namespace
}  // namespace crsp::cli
