#include "device_support.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "crsp/protocol/check.h"

namespace crsp::device::testing {
namespace {

using protocol::Ed25519Key;

void Md5Hook(void*, const uint8_t* data, size_t len, uint8_t digest[16]) {
  auto d = protocol::Md5(std::as_bytes(std::span(data, len)));
  std::memcpy(digest, d.data(), d.size());
}

int SignHook(void* ctx, const uint8_t* data, size_t len, uint8_t sig[64]) {
  const auto* key = static_cast<const Ed25519Key*>(ctx);
  auto s = key->Sign(std::as_bytes(std::span(data, len)));
  if (!s) return -1;
  std::memcpy(sig, s->data(), s->size());
  return 0;
}

int VerifyHook(void*, const uint8_t key[32], const uint8_t* data, size_t len,
               const uint8_t sig[64]) {
  protocol::PublicKey k;
  protocol::Signature s;
  std::memcpy(k.data(), key, k.size());
  std::memcpy(s.data(), sig, s.size());
  return protocol::Ed25519Verify(k, std::as_bytes(std::span(data, len)), s)
             ? 0
             : -1;
}

}  // namespace

crsp_crypto HooksFor(const Ed25519Key* key) {
  crsp_crypto c{};
  c.ctx = const_cast<Ed25519Key*>(key);
  c.md5 = Md5Hook;
  c.ed25519_verify = VerifyHook;
  if (key != nullptr) {
    c.ed25519_sign = SignHook;
    std::memcpy(c.public_key, key->public_key().data(), 32);
  }
  return c;
}

crsp_resource_set ToC(const protocol::ResourceSet& set) {
  crsp_resource_set c{};
  std::memcpy(c.device, set.device.data(), 16);
  c.device_kind = set.device_kind;
  c.currency = set.currency;
  std::memcpy(c.contact, set.contact.data(), 16);
  c.contact_port = set.contact_port;
  return c;
}

crsp_resource_entry ToC(const protocol::ResourceEntry& e) {
  return {e.resource, e.unit, e.quantity, e.price, e.valid_from, e.valid_until};
}

crsp_query ToC(const protocol::QueryRequest& q) {
  return {q.wanted_from, q.wanted_until, q.currency, q.max_results, q.cursor};
}

crsp_query_entry ToC(const protocol::QueryEntry& e) {
  return {e.resource, e.unit, e.max_price, e.min_quantity};
}

protocol::Offer FromC(const crsp_offer& o) {
  protocol::Offer p;
  std::memcpy(p.device.data(), o.device, 16);
  std::memcpy(p.contact.data(), o.contact, 16);
  p.contact_port = o.contact_port;
  p.device_kind = o.device_kind;
  p.currency = o.currency;
  p.resource = o.resource;
  p.unit = o.unit;
  p.flags = o.flags;
  p.quantity = o.quantity;
  p.price = o.price;
  p.valid_from = o.valid_from;
  p.valid_until = o.valid_until;
  return p;
}

protocol::EntryResult FromC(const crsp_entry_result& e) {
  return {e.resource, static_cast<wire::Status>(e.status), e.replicas};
}

std::vector<uint8_t> EncodeWithC(const protocol::Header& header,
                                 const protocol::Body& body,
                                 const crsp_crypto& hooks) {
  std::vector<uint8_t> out(70000);
  auto check = static_cast<uint8_t>(header.check);
  size_t n = 0;
  if (const auto* r = std::get_if<protocol::RegisterRequest>(&body)) {
    crsp_resource_set set = ToC(r->set);
    std::vector<crsp_resource_entry> entries;
    for (const auto& e : r->entries) entries.push_back(ToC(e));
    n = crsp_encode_register(out.data(), out.size(), header.txid, check, &hooks,
                             &set, entries.data(), entries.size());
  } else if (const auto* w = std::get_if<protocol::WithdrawRequest>(&body)) {
    n = crsp_encode_withdraw(out.data(), out.size(), header.txid, check, &hooks,
                             w->device.data(), w->resources.data(),
                             w->resources.size());
  } else if (std::holds_alternative<protocol::PingRequest>(body)) {
    n = crsp_encode_ping(out.data(), out.size(), header.txid, check, &hooks);
  } else if (const auto* q = std::get_if<protocol::QueryRequest>(&body)) {
    crsp_query query = ToC(*q);
    std::vector<crsp_query_entry> entries;
    for (const auto& e : q->entries) entries.push_back(ToC(e));
    n = crsp_encode_query(out.data(), out.size(), header.txid, check, &hooks,
                          &query, entries.data(), entries.size());
  }
  out.resize(n);
  return out;
}

CAnswer DecodeWithC(std::span<const std::byte> datagram,
                    const crsp_crypto* hooks) {
  CAnswer r{};
  // Room for every item the datagram can hold (an entry takes 8 bytes).
  auto room =
      static_cast<uint16_t>(std::min<size_t>(datagram.size() / 8, UINT16_MAX));
  r.entries.resize(room);
  r.offers.resize(room);
  r.answer.entries = r.entries.data();
  r.answer.entries_capacity = room;
  r.answer.offers = r.offers.data();
  r.answer.offers_capacity = room;
  r.status =
      crsp_decode_answer(reinterpret_cast<const uint8_t*>(datagram.data()),
                         datagram.size(), hooks, &r.answer);
  bool entry_kind = r.answer.kind == CRSP_ANSWER_REGISTER ||
                    r.answer.kind == CRSP_ANSWER_WITHDRAW;
  r.entries.resize(entry_kind ? r.answer.stored : 0);
  r.offers.resize(r.answer.kind == CRSP_ANSWER_QUERY ? r.answer.stored : 0);
  r.answer.entries = nullptr;  // the vectors own the items now
  r.answer.offers = nullptr;
  return r;
}

}  // namespace crsp::device::testing
