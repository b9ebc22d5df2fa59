#include "packet_json.h"

#include <type_traits>
#include <variant>

#include "address.h"
#include "crsp/support/hex.h"
#include "names.h"

namespace crsp::cli {
namespace {

using protocol::DeviceId;

void WriteEntryResults(JsonWriter& w, const protocol::EntryResults& body) {
  w.Field("device_id", support::ToHex(body.device));
  w.Key("entries");
  w.BeginArray();
  for (const auto& e : body.entries) {
    w.BeginObject();
    w.Field("resource_id", e.resource);
    w.Field("resource", ResourceName(e.resource));
    w.Field("status", wire::StatusName(e.status));
    w.Field("replicas", e.replicas);
    w.EndObject();
  }
  w.EndArray();
}

struct BodyWriter {
  JsonWriter& w;

  void operator()(const std::monostate&) {}
  void operator()(const protocol::PingRequest&) {}
  void operator()(const protocol::PingAnswer& b) {
    w.Field("node_id", support::ToHex(b.node_id));
    w.Field("offers", b.offers);
    w.Field("peers", b.peers);
    w.Field("uptime", b.uptime);
    w.Field("public_key", support::ToHex(b.public_key));
  }
  void operator()(const protocol::RegisterRequest& b) {
    w.Field("device_id", support::ToHex(b.set.device));
    w.Field("device_kind", b.set.device_kind);
    w.Field("currency", b.set.currency);
    w.Field("contact_address", support::FormatIp(b.set.contact));
    w.Field("contact_port", b.set.contact_port);
    w.Key("entries");
    w.BeginArray();
    for (const auto& e : b.entries) {
      w.BeginObject();
      w.Field("resource_id", e.resource);
      w.Field("resource", ResourceName(e.resource));
      w.Field("billing_unit", e.unit);
      w.Field("quantity", e.quantity);
      w.Field("price", e.price);
      w.Field("valid_from", e.valid_from);
      w.Field("valid_until", e.valid_until);
      w.EndObject();
    }
    w.EndArray();
  }
  void operator()(const protocol::RegisterAnswer& b) {
    WriteEntryResults(w, b);
  }
  void operator()(const protocol::WithdrawAnswer& b) {
    WriteEntryResults(w, b);
  }
  void operator()(const protocol::WithdrawRequest& b) {
    w.Field("device_id", support::ToHex(b.device));
    w.Key("resource_ids");
    w.BeginArray();
    for (uint16_t r : b.resources) w.Uint(r);
    w.EndArray();
  }
  void operator()(const protocol::QueryRequest& b) {
    w.Field("wanted_from", b.wanted_from);
    w.Field("wanted_until", b.wanted_until);
    w.Field("currency", b.currency);
    w.Field("max_results", b.max_results);
    w.Field("cursor", b.cursor);
    w.Key("entries");
    w.BeginArray();
    for (const auto& e : b.entries) {
      w.BeginObject();
      w.Field("resource_id", e.resource);
      w.Field("resource", ResourceName(e.resource));
      w.Field("billing_unit", e.unit);
      w.Field("max_price", e.max_price);
      w.Field("min_quantity", e.min_quantity);
      w.EndObject();
    }
    w.EndArray();
  }
  void operator()(const protocol::QueryAnswer& b) {
    w.Field("total_matches", b.total);
    w.Field("next_cursor", b.next_cursor);
    w.Key("offers");
    w.BeginArray();
    for (const auto& o : b.offers) WriteOfferJson(w, o);
    w.EndArray();
  }
};

}  // namespace

void WriteOfferJson(JsonWriter& w, const protocol::Offer& o) {
  w.BeginObject();
  w.Field("device_id", support::ToHex(o.device));
  w.Field("contact_address", support::FormatIp(o.contact));
  w.Field("contact_port", o.contact_port);
  w.Field("device_kind", o.device_kind);
  w.Field("currency", o.currency);
  w.Field("resource_id", o.resource);
  w.Field("resource", ResourceName(o.resource));
  w.Field("billing_unit", o.unit);
  w.Field("flags", o.flags);
  w.Field("quantity", o.quantity);
  w.Field("price", o.price);
  w.Field("valid_from", o.valid_from);
  w.Field("valid_until", o.valid_until);
  w.EndObject();
}

std::string PacketToJson(const protocol::DecodeResult& result) {
  const protocol::Header& h = result.packet.header;
  JsonWriter w;
  w.BeginObject();
  w.Field("version", h.version);
  w.Field("protocol", ProtocolName(h.protocol));
  auto kind = protocol::KindOf(h.protocol, h.type);
  w.Field("type", kind ? wire::PacketKindName(*kind) : std::string_view());
  w.Field("header_length", h.header_length);
  w.Field("total_length", h.total_length);
  w.Field("txid", h.txid);
  w.Field("check_type", static_cast<uint8_t>(h.check));
  w.Field("check_ok", result.check_ok);
  w.Field("status", wire::StatusName(h.status));
  w.Field("count", h.count);
  if (result.signer)
    w.Field("signer_public_key", support::ToHex(*result.signer));
  std::visit(BodyWriter{w}, result.packet.body);
  w.EndObject();
  return w.str();
}

std::string ErrorJson(std::string_view status_name, std::string_view detail) {
  JsonWriter w;
  w.BeginObject();
  w.Field("error", status_name);
  w.Field("detail", detail);
  w.EndObject();
  return w.str();
}

}  // namespace crsp::cli
