// `crsp query RESOURCE...`: what is for sale, every page (or --limit
// offers), as an aligned table or one JSON document.
#include <algorithm>
#include <iostream>
#include <variant>

#include "command_support.h"
#include "commands.h"
#include "exit_codes.h"
#include "hex.h"
#include "json_writer.h"
#include "names.h"
#include "packet_json.h"
#include "price.h"
#include "status_text.h"
#include "table.h"
#include "time_spec.h"

namespace crsp::cli {
namespace {

// Pages are fetched until the answer's next cursor is 0; this bounds a
// node that never says so.
constexpr int kMaxPages = 100000;

void PrintTable(const std::vector<protocol::Offer>& offers, uint32_t total) {
  Table t({"RESOURCE", "PRICE", "QTY", "FROM", "UNTIL", "DEVICE", "CONTACT",
           "SIGNED"});
  for (const auto& o : offers) {
    Currency c = CurrencyByNumeric(o.currency);
    std::string code =
        c.code.empty() ? std::to_string(o.currency) : std::string(c.code);
    t.AddRow({ResourceName(o.resource),
              FormatAmount(o.price, c.minor_digits) + " " + code + "/" +
                  UnitName(o.unit),
              std::to_string(o.quantity), FormatLocalTime(o.valid_from),
              FormatLocalTime(o.valid_until), ToHex(o.device),
              EndpointToText({o.contact, o.contact_port}),
              (o.flags & wire::kOfferFlagSigned) ? "yes" : "no"});
  }
  std::cout << t.Render();
  std::cout << offers.size() << " of " << total << " matching offer"
            << (total == 1 ? "" : "s") << "\n";
}

void PrintJson(const std::vector<protocol::Offer>& offers, uint32_t total,
               const Endpoint& node, bool complete) {
  JsonWriter w(2);
  w.BeginObject();
  w.Field("node", EndpointToText(node));
  w.Field("complete", complete);
  w.Field("total_matches", total);
  w.Field("count", static_cast<uint64_t>(offers.size()));
  w.Key("offers");
  w.BeginArray();
  for (const auto& o : offers) WriteOfferJson(w, o);
  w.EndArray();
  w.EndObject();
  std::cout << w.str() << "\n";
}

}  // namespace

int RunQuery(const QueryOptions& o, const GlobalFlags& flags) {
  std::string error;
  auto settings = ResolveSettings(flags, &error);
  if (!settings) return Fail(kExitUsage, error);
  if (o.resources.empty() || o.resources.size() > wire::kMaxQueryEntries) {
    return Fail(kExitUsage,
                "name 1 to 16 resources (" + ResourceNameList() + ")");
  }
  protocol::QueryRequest q;
  int minor_digits = 2;  // prices without --currency read as 2 decimals
  if (!o.currency.empty()) {
    auto c = CurrencyFromCode(o.currency);
    if (!c) return Fail(kExitUsage, "unknown currency '" + o.currency + "'");
    q.currency = c->numeric;
    minor_digits = c->minor_digits;
  }
  uint8_t unit = wire::kAnyBillingUnit;
  if (!o.unit.empty()) {
    auto u = UnitFromName(o.unit);
    if (!u) {
      return Fail(kExitUsage, "unknown unit '" + o.unit +
                                  "' (use, hour, page, gib-hour, km, day)");
    }
    unit = static_cast<uint8_t>(*u);
  }
  uint32_t max_price = wire::kAnyPrice;
  if (!o.max_price.empty()) {
    auto p = ParsePrice(o.max_price, minor_digits, &error);
    if (!p) return Fail(kExitUsage, error);
    max_price = p->minor;
    if (p->unit) unit = static_cast<uint8_t>(*p->unit);
  }
  uint64_t now = UnixNow();
  if (!o.from.empty()) {
    auto t = ParseTime(o.from, now, &error);
    if (!t) return Fail(kExitUsage, error);
    q.wanted_from = *t;
  }
  if (!o.until.empty()) {
    auto t = ParseTime(o.until, now, &error);
    if (!t) return Fail(kExitUsage, error);
    q.wanted_until = *t;
  }
  for (const auto& name : o.resources) {
    auto id = ResourceFromName(name);
    if (!id) {
      return Fail(kExitUsage, "unknown resource '" + name + "' (" +
                                  ResourceNameList() + ")");
    }
    q.entries.push_back({*id, unit, max_price, o.min_quantity});
  }

  NodeClient client(settings->nodes, settings->policy);
  std::vector<protocol::Offer> offers;
  uint32_t total = 0;
  Endpoint node{};
  // Whether every page came back OK (exact); an INCOMPLETE page still
  // carries the offers the node read.
  bool complete = true;
  for (int page = 0; page < kMaxPages; ++page) {
    if (o.limit) {
      q.max_results = static_cast<uint16_t>(
          std::min<uint64_t>(o.limit - offers.size(), 0xFFFF));
    }
    protocol::Packet request{
        protocol::HeaderFor(wire::PacketKind::kQueryRequest, RandomTxid(),
                            settings->check),
        q};
    auto answer = client.Send(request, nullptr);
    if (!answer) return FailNoNode(client.order());
    node = answer->node;
    const protocol::Header& h = answer->packet.header;
    const auto* body = std::get_if<protocol::QueryAnswer>(&answer->packet.body);
    const bool incomplete = h.status == wire::Status::kIncomplete;
    if ((h.status != wire::Status::kOk && !incomplete) || body == nullptr) {
      return Fail(kExitNodeStatus, StatusLine(h.status));
    }
    complete = complete && !incomplete;
    total = body->total;
    offers.insert(offers.end(), body->offers.begin(), body->offers.end());
    if (o.limit && offers.size() >= o.limit) {
      offers.resize(o.limit);
      break;
    }
    // A next cursor that does not move forward would loop forever.
    if (body->next_cursor == 0 || body->next_cursor <= q.cursor ||
        body->offers.empty()) {
      break;
    }
    q.cursor = body->next_cursor;
  }
  if (o.json) {
    PrintJson(offers, total, node, complete);
  } else {
    PrintTable(offers, total);
  }
  if (!complete) {
    std::cerr << "crsp: warning: " << StatusLine(wire::Status::kIncomplete)
              << "\n";
    return kExitIncomplete;
  }
  return kExitOk;
}

}  // namespace crsp::cli
