// `crsp ping` / `crsp nodes`: every configured node's round-trip time,
// node id, peers and offers.
#include <cstdio>
#include <iostream>

#include "command_support.h"
#include "commands.h"
#include "exit_codes.h"
#include "hex.h"
#include "json_writer.h"
#include "table.h"

namespace crsp::cli {

int RunPing(const PingOptions& o, const GlobalFlags& flags) {
  std::string error;
  auto settings = ResolveSettings(flags, &error);
  if (!settings) return Fail(kExitUsage, error);
  NodeClient client(settings->nodes, settings->policy);
  std::vector<PingResult> results = client.PingAll(settings->check);
  bool any = false;
  for (const auto& r : results) any |= r.answer.has_value();

  if (o.json) {
    JsonWriter w(2);
    w.BeginObject();
    w.Key("nodes");
    w.BeginArray();
    for (const auto& r : results) {
      w.BeginObject();
      w.Field("node", EndpointToText(r.node));
      w.Field("answered", r.answer.has_value());
      if (r.answer) {
        w.Key("rtt_ms");
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3f", r.rtt.count() / 1000.0);
        w.String(buf);
        w.Field("node_id", ToHex(r.answer->node_id));
        w.Field("peers", r.answer->peers);
        w.Field("offers", r.answer->offers);
        w.Field("uptime", r.answer->uptime);
        w.Field("public_key", ToHex(r.answer->public_key));
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
        t.AddRow({EndpointToText(r.node), "no answer", "", "", "", ""});
        continue;
      }
      char rtt[32];
      std::snprintf(rtt, sizeof rtt, "%.1f ms", r.rtt.count() / 1000.0);
      t.AddRow({EndpointToText(r.node), rtt, ToHex(r.answer->node_id),
                std::to_string(r.answer->peers),
                std::to_string(r.answer->offers),
                std::to_string(r.answer->uptime) + " s"});
    }
    std::cout << t.Render();
  }
  if (!any) return FailNoNode(settings->nodes);
  return kExitOk;
}

}  // namespace crsp::cli
