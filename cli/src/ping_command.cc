// `crsp ping` / `crsp nodes`: every configured node's round-trip time,
// node id, peers and offers.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>

#include "command_support.h"
#include "commands.h"
#include "crsp/support/hex.h"
#include "json_writer.h"
#include "table.h"

namespace crsp::cli {

namespace {

support::Status RunPing(bool json, const GlobalFlags& flags) {
  support::Result<Settings> settings = ResolveSettings(flags);
  if (!settings) return settings.status();
  NodeClient client(settings->nodes, settings->policy);
  std::vector<PingResult> results = client.PingAll(settings->check);
  bool any = false;
  for (const auto& r : results) any |= r.answer.has_value();

  if (json) {
    JsonWriter w(2);
    w.BeginObject();
    w.Key("nodes");
    w.BeginArray();
    for (const auto& r : results) {
      w.BeginObject();
      w.Field("node", support::FormatEndpoint(r.node));
      w.Field("answered", r.answer.has_value());
      if (r.answer) {
        w.Key("rtt_ms");
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3f", r.rtt.count() / 1000.0);
        w.String(buf);
        w.Field("node_id", support::ToHex(r.answer->node_id));
        w.Field("peers", r.answer->peers);
        w.Field("offers", r.answer->offers);
        w.Field("uptime", r.answer->uptime);
        w.Field("public_key", support::ToHex(r.answer->public_key));
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::cout << w.str() << "\n";
  } else {
    Table t({"NODE", "RTT", "NODE ID", "PEERS", "OFFERS", "UPTIME"});
    for (const auto& r : results) {
      if (!r.answer) {
        t.AddRow(
            {support::FormatEndpoint(r.node), "no answer", "", "", "", ""});
        continue;
      }
      char rtt[32];
      std::snprintf(rtt, sizeof rtt, "%.1f ms", r.rtt.count() / 1000.0);
      t.AddRow({support::FormatEndpoint(r.node), rtt,
                support::ToHex(r.answer->node_id),
                std::to_string(r.answer->peers),
                std::to_string(r.answer->offers),
                std::to_string(r.answer->uptime) + " s"});
    }
    std::cout << t.Render();
  }
  if (!any) return NoNodeAnswered(settings->nodes);
  return support::Status::Ok();
}

}  // namespace

void AddPingCommand(CLI::App& app, const GlobalFlags& flags,
                    support::Status& outcome) {
  auto json = std::make_shared<bool>(false);
  for (const char* name : {"ping", "nodes"}) {
    CLI::App* cmd = app.add_subcommand(
        name,
        "Ping every configured node: round-trip time, node id, peers, "
        "offers. Exit 69 when none answers.");
    cmd->add_flag("--json", *json, "Print JSON");
    cmd->callback(
        [json, &flags, &outcome] { outcome = RunPing(*json, flags); });
  }
}

}  // namespace crsp::cli
