#include "hostile_peer.h"

#include <arpa/inet.h>
#include <opendht.h>

#include <future>
#include <mutex>
#include <random>
#include <thread>

namespace crsp::testing {

struct HostilePeer::Impl {
  ::dht::DhtRunner runner;
  ::dht::crypto::Identity identity;
};

namespace {

::dht::SockAddr Loopback(sa_family_t family) {
  if (family == AF_INET6) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_addr = in6addr_loopback;
    return ::dht::SockAddr(reinterpret_cast<sockaddr*>(&sin6), sizeof(sin6));
  }
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::dht::SockAddr(reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
}

::dht::Blob ToBlob(const std::vector<std::byte>& bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  return ::dht::Blob(p, p + bytes.size());
}

}  // namespace

HostilePeer::HostilePeer(const std::string& bootstrap)
    : impl_(std::make_unique<Impl>()) {
  // RSA: OpenDHT 2.4.12 verifies every value signature as RSA.
  impl_->identity = ::dht::crypto::generateIdentity("hostile", {}, 2048);
  ::dht::DhtRunner::Config config;
  config.dht_config.id = impl_->identity;
  config.threaded = true;
  config.bind6 = Loopback(AF_INET6);
  config.bind4 = Loopback(AF_INET);
  impl_->runner.run(config, {});
  impl_->runner.bootstrap(bootstrap);
}

HostilePeer::~HostilePeer() {
  // Bounded: shutdown's callback may wait for puts to dead peers.
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  impl_->runner.shutdown([done] { done->set_value(); });
  future.wait_for(std::chrono::seconds(5));
  impl_->runner.join();
}

bool HostilePeer::WaitForPeers(size_t peers,
                               std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    const auto& r = impl_->runner;
    if (r.getNodesStats(AF_INET6).good_nodes +
            r.getNodesStats(AF_INET).good_nodes >=
        peers) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

bool HostilePeer::Put(const std::string& key_name, uint16_t type,
                      std::vector<std::byte> data, Signing signing,
                      uint64_t value_id, std::chrono::milliseconds deadline) {
  const ::dht::InfoHash key = ::dht::InfoHash::get(key_name);
  auto value = std::make_shared<::dht::Value>(type, ToBlob(data));
  // Dressed as an offer value: nodes ask for this user type, so only their
  // read filter stands between these values and the answers.
  value->user_type = "crsp/offer";
  static thread_local std::mt19937_64 random(std::random_device{}());
  value->id = value_id != 0
                  ? value_id
                  : std::uniform_int_distribution<uint64_t>(1)(random);
  // As crsp nodes put: a seq above 0 makes OpenDHT send the whole value to
  // a node that holds another under this id, instead of a refresh.
  value->seq = 1;
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  ::dht::DoneCallback cb =
      [done](bool, const std::vector<std::shared_ptr<::dht::Node>>&) {
        done->set_value();
      };
  switch (signing) {
    case Signing::kSigned:
      impl_->runner.putSigned(key, value, cb);
      break;
    case Signing::kUnsigned:
      impl_->runner.put(key, value, cb);
      break;
    case Signing::kBadSignature:
      // Signs other bytes, then carries `data`: a well-formed value whose
      // signature does not verify.
      value->data.push_back(0x00);
      value->sign(*impl_->identity.first);
      value->data.pop_back();
      impl_->runner.put(key, value, cb);
      break;
  }
  return future.wait_for(deadline) == std::future_status::ready;
}

std::vector<HostilePeer::Stored> HostilePeer::Get(
    const std::string& key_name, std::chrono::milliseconds deadline) {
  auto found = std::make_shared<std::vector<Stored>>();
  auto mu = std::make_shared<std::mutex>();
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  impl_->runner.get(
      ::dht::InfoHash::get(key_name),
      ::dht::GetCallback(
          [found,
           mu](const std::vector<std::shared_ptr<::dht::Value>>& values) {
            std::lock_guard lock(*mu);
            for (const auto& v : values) {
              const auto* p =
                  reinterpret_cast<const std::byte*>(v->data.data());
              found->push_back(
                  Stored{v->id, std::vector<std::byte>(p, p + v->data.size())});
            }
            return true;
          }),
      ::dht::DoneCallbackSimple([done](bool) { done->set_value(); }));
  if (future.wait_for(deadline) != std::future_status::ready) return {};
  std::lock_guard lock(*mu);
  return *found;
}

}  // namespace crsp::testing
