#include "body_writer.h"

#include <type_traits>

#include "record.h"

namespace crsp::protocol::internal {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

void Write(const PingAnswer& a, Writer& w) {
  w.Bytes(a.node_id);
  w.U32(a.offers);
  w.U32(a.peers);
  w.U32(a.uptime);
  w.Bytes(a.public_key);
}

void Write(const RegisterRequest& r, Writer& w) {
  w.Bytes(r.set.device);
  w.U16(r.set.device_kind);
  w.U16(r.set.currency);
  w.Bytes(r.set.contact);
  w.U16(r.set.contact_port);
  w.Zeros(2);
  for (const ResourceEntry& e : r.entries) {
    auto rec = AppendRecord<wire::kResourceEntrySize>(w);  // flags, reserved: 0
    rec.U16<wire::kOffEntryResource>(e.resource);
    rec.U8<wire::kOffEntryUnit>(e.unit);
    rec.U32<wire::kOffEntryQuantity>(e.quantity);
    rec.U32<wire::kOffEntryPrice>(e.price);
    rec.U64<wire::kOffEntryValidFrom>(e.valid_from);
    rec.U64<wire::kOffEntryValidUntil>(e.valid_until);
  }
}

void Write(const EntryResults& r, Writer& w) {
  w.Bytes(r.device);
  for (const EntryResult& e : r.entries) {
    w.U16(e.resource);
    w.U8(static_cast<uint8_t>(e.status));
    w.Zeros(1);
    w.U16(e.replicas);
    w.Zeros(2);
  }
}

void Write(const WithdrawRequest& r, Writer& w) {
  w.Bytes(r.device);
  for (uint16_t id : r.resources) {
    w.U16(id);
  }
}

void Write(const QueryRequest& q, Writer& w) { WriteQueryRequest(q, w); }

void Write(const QueryAnswer& a, Writer& w) { WriteQueryAnswer(a, w); }

}  // namespace

size_t QueryRequestSize(const QueryRequest& q) {
  return wire::kQueryDescriptorSize + wire::kQueryEntrySize * q.entries.size();
}

size_t QueryAnswerSize(const QueryAnswer& a) {
  return wire::kAnswerDescriptorSize + wire::kOfferSize * a.offers.size();
}

void WriteQueryRequest(const QueryRequest& q, Writer& w) {
  w.U64(q.wanted_from);
  w.U64(q.wanted_until);
  w.U16(q.currency);
  w.U16(q.max_results);
  w.U32(q.cursor);
  for (const QueryEntry& e : q.entries) {
    w.U16(e.resource);
    w.U8(e.unit);
    w.Zeros(1);
    w.U32(e.max_price);
    w.U32(e.min_quantity);
  }
}

void WriteQueryAnswer(const QueryAnswer& a, Writer& w) {
  w.U32(a.total);
  w.U32(a.next_cursor);
  for (const Offer& o : a.offers) {
    auto rec = AppendRecord<wire::kOfferSize>(w);  // reserved bytes: 0
    rec.Bytes<wire::kOffOfferDevice>(o.device);
    rec.Bytes<wire::kOffOfferContact>(o.contact);
    rec.U16<wire::kOffOfferContactPort>(o.contact_port);
    rec.U16<wire::kOffOfferDeviceKind>(o.device_kind);
    rec.U16<wire::kOffOfferCurrency>(o.currency);
    rec.U16<wire::kOffOfferResource>(o.resource);
    rec.U8<wire::kOffOfferUnit>(o.unit);
    rec.U8<wire::kOffOfferFlags>(o.flags);
    rec.U32<wire::kOffOfferQuantity>(o.quantity);
    rec.U32<wire::kOffOfferPrice>(o.price);
    rec.U64<wire::kOffOfferValidFrom>(o.valid_from);
    rec.U64<wire::kOffOfferValidUntil>(o.valid_until);
  }
}

size_t ItemCount(const Body& body) {
  return std::visit(
      Overloaded{
          [](const std::monostate&) -> size_t { return 0; },
          [](const PingRequest&) -> size_t { return 0; },
          [](const PingAnswer&) -> size_t { return 0; },
          [](const RegisterRequest& r) { return r.entries.size(); },
          [](const EntryResults& r) { return r.entries.size(); },
          [](const WithdrawRequest& r) { return r.resources.size(); },
          [](const QueryRequest& q) { return q.entries.size(); },
          [](const QueryAnswer& a) { return a.offers.size(); },
      },
      body);
}

size_t BodySize(const Body& body) {
  return std::visit(
      Overloaded{
          [](const std::monostate&) -> size_t { return 0; },
          [](const PingRequest&) -> size_t { return 0; },
          [](const PingAnswer&) { return wire::kPingAnswerBodySize; },
          [](const RegisterRequest& r) {
            return wire::kResourceSetSize +
                   wire::kResourceEntrySize * r.entries.size();
          },
          [](const EntryResults& r) {
            return wire::kDeviceIdSize +
                   wire::kEntryResultSize * r.entries.size();
          },
          [](const WithdrawRequest& r) {
            return wire::kDeviceIdSize +
                   wire::kResourceIdSize * r.resources.size();
          },
          [](const QueryRequest& q) { return QueryRequestSize(q); },
          [](const QueryAnswer& a) { return QueryAnswerSize(a); },
      },
      body);
}

void WriteBody(const Body& body, Writer& w) {
  std::visit(Overloaded{
                 [](const std::monostate&) {},
                 [](const PingRequest&) {},
                 [&w](const auto& b) { Write(b, w); },
             },
             body);
}

}  // namespace crsp::protocol::internal
