// VerifyRecordSignature: a signed record carries the seller's whole request;
// it counts only if that request verifies (check type 7) and says exactly
// what the record says.
#include <algorithm>
#include <cstring>

#include "crsp/dht_adapter/offer_record.h"
#include "crsp/protocol/codec.h"

namespace crsp::dht {
namespace {

bool IsAllZero(const protocol::Ipv6Address& address) {
  return std::all_of(address.begin(), address.end(),
                     [](uint8_t b) { return b == 0; });
}

bool EntryMatches(const protocol::ResourceEntry& e, const protocol::Offer& o) {
  return e.resource == o.resource && e.unit == o.unit &&
         e.quantity == o.quantity && e.price == o.price &&
         e.valid_from == o.valid_from && e.valid_until == o.valid_until;
}

bool RegisterMatches(const protocol::RegisterRequest& request,
                     const protocol::Offer& o) {
  const protocol::ResourceSet& set = request.set;
  if (set.device != o.device || set.device_kind != o.device_kind ||
      set.currency != o.currency) {
    return false;
  }
  // All-zero contact or port: the accepting node filled in the request's
  // source address or port, which the signature cannot cover.
  if (!IsAllZero(set.contact) && set.contact != o.contact) return false;
  if (set.contact_port != 0 && set.contact_port != o.contact_port) {
    return false;
  }
  return std::any_of(
      request.entries.begin(), request.entries.end(),
      [&o](const protocol::ResourceEntry& e) { return EntryMatches(e, o); });
}

bool WithdrawMatches(const protocol::WithdrawRequest& request,
                     const protocol::Offer& o) {
  if (request.device != o.device) return false;
  return request.resources.empty() ||
         std::find(request.resources.begin(), request.resources.end(),
                   o.resource) != request.resources.end();
}

}  // namespace

bool VerifyRecordSignature(const OfferRecord& record) {
  if (record.signed_request.empty()) return true;
  const protocol::DecodeResult decoded =
      protocol::Decode(record.signed_request);
  if (decoded.status != wire::Status::kOk || !decoded.check_ok ||
      decoded.packet.header.check != wire::CheckType::kEd25519 ||
      !decoded.signer.has_value() ||
      decoded.packet.header.txid != record.version) {
    return false;
  }
  const protocol::Body& body = decoded.packet.body;
  if (record.withdrawn) {
    const auto* withdraw = std::get_if<protocol::WithdrawRequest>(&body);
    return withdraw != nullptr && WithdrawMatches(*withdraw, record.offer);
  }
  const auto* reg = std::get_if<protocol::RegisterRequest>(&body);
  return reg != nullptr && RegisterMatches(*reg, record.offer);
}

std::optional<protocol::PublicKey> RecordSigner(const OfferRecord& record) {
  // Check type 7's trailer (PROTOCOL.md): the key, then the signature.
  constexpr size_t kTrailer =
      wire::kTrailerSize[static_cast<size_t>(wire::CheckType::kEd25519)];
  const std::vector<std::byte>& request = record.signed_request;
  if (request.size() < kTrailer) return std::nullopt;
  protocol::PublicKey key{};
  std::memcpy(key.data(), request.data() + request.size() - kTrailer,
              key.size());
  return key;
}

}  // namespace crsp::dht
