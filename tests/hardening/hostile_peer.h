// A hostile DHT peer for tests: a raw OpenDHT node (its own RSA identity)
// joined to a crsp-node's DHT, which stores and fetches whatever bytes it
// is told under offer keys, ignoring every CRSP rule. OpenDHT types stay in
// hostile_peer.cc. Every call is bounded by a deadline.
#ifndef CRSP_TESTS_HARDENING_HOSTILE_PEER_H_
#define CRSP_TESTS_HARDENING_HOSTILE_PEER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace crsp::testing {

class HostilePeer {
 public:
  // How a value is put.
  enum class Signing {
    kSigned,        // putSigned with the peer's own identity
    kUnsigned,      // a plain put: no owner, no signature
    kBadSignature,  // signed, then its data changed: does not verify
  };

  // Binds [::1] and 127.0.0.1 on ephemeral ports and bootstraps to
  // `bootstrap` ("[::1]:PORT").
  explicit HostilePeer(const std::string& bootstrap);
  ~HostilePeer();
  HostilePeer(const HostilePeer&) = delete;
  HostilePeer& operator=(const HostilePeer&) = delete;

  // True once the peer knows at least `peers` good nodes (bounded).
  bool WaitForPeers(size_t peers, std::chrono::milliseconds deadline);

  // Puts `data` under InfoHash::get(key_name) as a value of `type` with
  // value id `value_id` (0: a random one; another node's id makes the put
  // an edit of that node's value); true when the put's done callback came
  // back (ok or not) before `deadline`. The put's own success is
  // irrelevant: remote nodes may refuse it, and the peer then still serves
  // its local copy to getters.
  bool Put(const std::string& key_name, uint16_t type,
           std::vector<std::byte> data, Signing signing, uint64_t value_id = 0,
           std::chrono::milliseconds deadline = std::chrono::seconds(15));

  // One value as the network serves it.
  struct Stored {
    uint64_t id = 0;
    std::vector<std::byte> data;
  };

  // Every value stored under InfoHash::get(key_name); empty on timeout.
  std::vector<Stored> Get(
      const std::string& key_name,
      std::chrono::milliseconds deadline = std::chrono::seconds(10));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace crsp::testing

#endif  // CRSP_TESTS_HARDENING_HOSTILE_PEER_H_
