// `crsp query RESOURCE...`: what is for sale, every page (or --limit
// offers), as an aligned table or one JSON document.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <memory>
#include <variant>

#include "command_support.h"
#include "commands.h"
#include "crsp/support/clock.h"
#include "crsp/support/hex.h"
#include "json_writer.h"
#include "names.h"
#include "packet_json.h"
#include "price.h"
#include "status_text.h"
#include "table.h"
#include "time_spec.h"

namespace crsp::cli {
namespace {

using support::Result;
using support::Status;

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
              FormatLocalTime(o.valid_until), support::ToHex(o.device),
              support::FormatEndpoint({o.contact, o.contact_port}),
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
  w.Field("node", support::FormatEndpoint(node));
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

struct QueryOptions {
  std::vector<std::string> resources;
  std::string max_price, unit, currency, from, until;
  uint32_t min_quantity = 0;
  uint32_t limit = 0;  // 0: every page
  bool json = false;
};

Status RunQuery(const QueryOptions& o, const GlobalFlags& flags) {
  Result<Settings> settings = ResolveSettings(flags);
  if (!settings) return settings.status();
  if (o.resources.empty() || o.resources.size() > wire::kMaxQueryEntries) {
    return Status::InvalidArgument("name 1 to 16 resources (" +
                                   ResourceNameList() + ")");
  }
  protocol::QueryRequest q;
  int minor_digits = 2;  // prices without --currency read as 2 decimals
  if (!o.currency.empty()) {
    auto c = CurrencyFromCode(o.currency);
    if (!c)
      return Status::InvalidArgument("unknown currency '" + o.currency + "'");
    q.currency = c->numeric;
    minor_digits = c->minor_digits;
  }
  uint8_t unit = wire::kAnyBillingUnit;
  if (!o.unit.empty()) {
    auto u = UnitFromName(o.unit);
    if (!u) {
      return Status::InvalidArgument("unknown unit '" + o.unit +
                                     "' (use, hour, page, gib-hour, km, day)");
    }
    unit = static_cast<uint8_t>(*u);
  }
  uint32_t max_price = wire::kAnyPrice;
  if (!o.max_price.empty()) {
    Result<Price> p = ParsePrice(o.max_price, minor_digits);
    if (!p) return p.status();
    max_price = p->minor;
    if (p->unit) unit = static_cast<uint8_t>(*p->unit);
  }
  uint64_t now = support::UnixSeconds();
  if (!o.from.empty()) {
    Result<uint64_t> t = ParseTime(o.from, now);
    if (!t) return t.status();
    q.wanted_from = *t;
  }
  if (!o.until.empty()) {
    Result<uint64_t> t = ParseTime(o.until, now);
    if (!t) return t.status();
    q.wanted_until = *t;
  }
  for (const auto& name : o.resources) {
    auto id = ResourceFromName(name);
    if (!id) {
      return Status::InvalidArgument("unknown resource '" + name + "' (" +
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
    if (!answer) return NoNodeAnswered(client.order());
    node = answer->node;
    const protocol::Header& h = answer->packet.header;
    const auto* body = std::get_if<protocol::QueryAnswer>(&answer->packet.body);
    const bool incomplete = h.status == wire::Status::kIncomplete;
    if ((h.status != wire::Status::kOk && !incomplete) || body == nullptr) {
      return Status::Refused(StatusLine(h.status));
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
  // Printed above: what the node read, and not the whole answer.
  if (!complete) {
    return Status::Incomplete("warning: " +
                              StatusLine(wire::Status::kIncomplete));
  }
  return Status::Ok();
}

}  // namespace

void AddQueryCommand(CLI::App& app, const GlobalFlags& flags, Status& outcome) {
  auto q = std::make_shared<QueryOptions>();
  CLI::App* cmd = app.add_subcommand(
      "query",
      "Find offers of the named resources, cheapest first. Fetches every "
      "page unless --limit.");
  cmd->add_option("RESOURCE", q->resources, ResourceNameList())->required();
  cmd->add_option("--max-price", q->max_price,
                  "Highest price, major units (e.g. 3.00 or 3.00/hour)");
  cmd->add_option("--unit", q->unit, "Billing unit (default any)");
  cmd->add_option("--min-quantity", q->min_quantity, "Smallest quantity");
  cmd->add_option("--from", q->from, "Wanted from (default now)");
  cmd->add_option("--until", q->until, "Wanted until (default no end)");
  cmd->add_option("--currency", q->currency, "Only this currency");
  cmd->add_option("--limit", q->limit, "At most this many offers");
  cmd->add_flag("--json", q->json, "One JSON document instead of a table");
  cmd->callback([q, &flags, &outcome] { outcome = RunQuery(*q, flags); });
}

}  // namespace crsp::cli
