#include "record_builder.h"

#include <chrono>
#include <stdexcept>

#include "crsp/protocol/codec.h"

namespace crsp::dht::testing {

uint64_t Now() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
}

OfferRecord UnsignedRecord(uint8_t device_byte, uint32_t price,
                           uint16_t resource) {
  OfferRecord r;
  r.offer.device.fill(0x11);
  r.offer.device[0] = device_byte;
  r.offer.contact = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                     0,    0,    0,    0,    0, 0, 0, 1};
  r.offer.contact_port = 7000;
  r.offer.device_kind = 1;
  r.offer.currency = 978;
  r.offer.resource = resource;
  r.offer.unit = 1;
  r.offer.quantity = 4;
  r.offer.price = price;
  r.offer.valid_from = Now() - 10;
  r.offer.valid_until = Now() + 3600;
  r.version = 1;
  r.owner_address = r.offer.contact;
  return r;
}

protocol::Ed25519Key TestKey(uint8_t seed_byte) {
  protocol::Ed25519Seed seed;
  seed.fill(seed_byte);
  std::optional<protocol::Ed25519Key> key =
      protocol::Ed25519Key::FromSeed(seed);
  if (!key) throw std::runtime_error("GnuTLS refused a test seed");
  return std::move(*key);
}

OfferRecord SignedRecord(const protocol::Offer& offer, uint32_t txid,
                         const protocol::Ed25519Key& key) {
  protocol::RegisterRequest request;
  request.set.device = offer.device;
  request.set.device_kind = offer.device_kind;
  request.set.currency = offer.currency;
  request.set.contact = offer.contact;
  request.set.contact_port = offer.contact_port;
  request.entries.push_back({offer.resource, offer.unit, offer.quantity,
                             offer.price, offer.valid_from, offer.valid_until});
  protocol::Packet packet;
  packet.header = protocol::HeaderFor(wire::PacketKind::kRegisterRequest, txid,
                                      wire::CheckType::kEd25519);
  packet.body = request;
  OfferRecord r;
  r.offer = offer;
  r.version = txid;
  r.signed_request = protocol::Encode(packet, &key);
  if (r.signed_request.empty()) throw std::runtime_error("Encode failed");
  return r;
}

OfferRecord SignedTombstone(const protocol::Offer& offer, uint32_t txid,
                            const std::vector<uint16_t>& resources,
                            const protocol::Ed25519Key& key) {
  protocol::Packet packet;
  packet.header = protocol::HeaderFor(wire::PacketKind::kWithdrawRequest, txid,
                                      wire::CheckType::kEd25519);
  packet.body = protocol::WithdrawRequest{offer.device, resources};
  OfferRecord r;
  r.offer = offer;
  r.version = txid;
  r.withdrawn = true;
  r.signed_request = protocol::Encode(packet, &key);
  if (r.signed_request.empty()) throw std::runtime_error("Encode failed");
  return r;
}

}  // namespace crsp::dht::testing
