// PeerSocket: OpenDHT's UDP socket with every received packet's source
// written into a PeerBook before OpenDHT reads it. Injected through
// DhtRunner::Context::sock (the seam dhtsim uses); everything else is the
// wrapped UdpSocket's.
#ifndef CRSP_DHT_ADAPTER_SRC_PEER_SOCKET_H_
#define CRSP_DHT_ADAPTER_SRC_PEER_SOCKET_H_

#include <opendht/network_utils.h>

#include <memory>
#include <utility>

#include "opendht_impl.h"
#include "peer_book.h"

namespace crsp::dht::internal {

class PeerSocket final : public ::dht::net::DatagramSocket {
 public:
  PeerSocket(std::unique_ptr<::dht::net::DatagramSocket> inner,
             std::shared_ptr<PeerBook> book)
      : book_(std::move(book)), inner_(std::move(inner)) {
    inner_->setOnReceive([this](::dht::net::PacketList&& packets) {
      const auto now = PeerBook::Clock::now();
      for (const ::dht::net::ReceivedPacket& packet : packets) {
        if (auto address = AddressBytes(packet.from)) {
          book_->Heard(*address, now);
        }
      }
      // OpenDHT hands back the packets it has read, for their buffers to be
      // reused; they land in this object's recycling list (onReceived),
      // which nothing here takes from. As many go back to the wrapped
      // socket, which reads into them: left there, that list grew to
      // 65,536 packets (7-30 MB more RSS per node in a 20-node cluster).
      const size_t n = packets.size();
      onReceived(std::move(packets));
      ::dht::net::PacketList recycled;
      for (size_t i = 0; i < n; ++i)
        recycled.splice(recycled.end(), getNewPacket());
      return recycled;
    });
  }
  // The wrapped socket's receive thread calls into this object: stopped
  // (joined) before anything here goes.
  ~PeerSocket() override { inner_->stop(); }

  int sendTo(const ::dht::SockAddr& dest, const uint8_t* data, size_t size,
             bool replied) override {
    return inner_->sendTo(dest, data, size, replied);
  }
  bool hasIPv4() const override { return inner_->hasIPv4(); }
  bool hasIPv6() const override { return inner_->hasIPv6(); }
  const ::dht::SockAddr& getBoundRef(
      sa_family_t family = AF_UNSPEC) const override {
    return inner_->getBoundRef(family);
  }
  void stop() override { inner_->stop(); }

 private:
  std::shared_ptr<PeerBook> book_;
  std::unique_ptr<::dht::net::DatagramSocket> inner_;  // after book_
};

}  // namespace crsp::dht::internal

#endif  // CRSP_DHT_ADAPTER_SRC_PEER_SOCKET_H_
