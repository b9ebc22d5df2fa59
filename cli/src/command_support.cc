#include "command_support.h"

#include <cstdio>
#include <iostream>
#include <variant>

#include "exit_codes.h"
#include "file_util.h"
#include "hex.h"
#include "json_writer.h"
#include "keyfile.h"
#include "names.h"
#include "passphrase.h"
#include "status_text.h"
#include "time_spec.h"
#include "txid_counter.h"

namespace crsp::cli {

int Fail(int exit_code, std::string_view message) {
  std::cerr << "crsp: " << message << "\n";
  return exit_code;
}

int FailNoNode(const std::vector<Endpoint>& nodes) {
  std::string list;
  for (const auto& n : nodes) {
    if (!list.empty()) list += ", ";
    list += EndpointToText(n);
  }
  return Fail(kExitNoNode,
              "no node answered (tried " + list +
                  "); check that a node runs there, or name others with "
                  "--node or CRSP_NODES");
}

Signer LoadSigner(const KeyOptions& options) {
  Signer s;
  if (options.key_path.empty()) return s;
  std::string error;
  auto bytes = ReadFileText(options.key_path, &error);
  if (!bytes) {
    s.exit_code = Fail(kExitLocal, "cannot read key: " + error);
    return s;
  }
  auto pass = GetPassphrase(options.passphrase_file, false, &error);
  if (!pass) {
    s.exit_code = Fail(kExitLocal, error);
    return s;
  }
  OpenKeyError why;
  s.key = OpenKey(
      std::span(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()),
      *pass, &why);
  if (!s.key) {
    switch (why) {
      case OpenKeyError::kWrongPassphrase:
        error = "wrong passphrase for " + options.key_path +
                " (or the key file was changed)";
        break;
      case OpenKeyError::kFormat:
        error = options.key_path +
                " is not a crsp key file (make one with "
                "'crsp keygen --out FILE')";
        break;
      default:
        error = "cannot decrypt " + options.key_path + " (out of memory?)";
    }
    s.exit_code = Fail(kExitLocal, error);
  }
  return s;
}

std::optional<protocol::Header> RequestHeader(wire::PacketKind kind,
                                              const Settings& settings,
                                              const KeyOptions& key,
                                              const Signer& signer,
                                              int* exit_code) {
  if (!signer.key) {
    return protocol::HeaderFor(kind, RandomTxid(), settings.check);
  }
  std::string error;
  auto txid = NextSignedTxid(key.key_path, UnixNow(), &error);
  if (!txid) {
    *exit_code = Fail(kExitLocal, error);
    return std::nullopt;
  }
  return protocol::HeaderFor(kind, *txid, wire::CheckType::kEd25519);
}

int ReportEntryResults(const NodeAnswer& answer, std::string_view verb,
                       bool json) {
  const protocol::Header& h = answer.packet.header;
  const auto* results =
      std::get_if<protocol::RegisterAnswer>(&answer.packet.body);
  const auto* withdrawn =
      std::get_if<protocol::WithdrawAnswer>(&answer.packet.body);
  const protocol::EntryResults* body =
      results ? static_cast<const protocol::EntryResults*>(results)
              : static_cast<const protocol::EntryResults*>(withdrawn);
  if (json) {
    JsonWriter w(2);
    w.BeginObject();
    w.Field("node", EndpointToText(answer.node));
    w.Field("txid", h.txid);
    w.Field("status", wire::StatusName(h.status));
    if (body) {
      w.Field("device_id", ToHex(body->device));
      w.Key("entries");
      w.BeginArray();
      for (const auto& e : body->entries) {
        w.BeginObject();
        w.Field("resource", ResourceName(e.resource));
        w.Field("resource_id", e.resource);
        w.Field("status", wire::StatusName(e.status));
        w.Field("replicas", e.replicas);
        w.EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
    std::cout << w.str() << "\n";
  } else if (body) {
    char rtt[32];
    std::snprintf(rtt, sizeof rtt, "%.1f ms", answer.rtt.count() / 1000.0);
    std::cout << verb << " via " << EndpointToText(answer.node) << " (" << rtt
              << "), device " << ToHex(body->device) << "\n";
    {
      for (const auto& e : body->entries) {
        char line[160];
        std::snprintf(line, sizeof line, "  %-14s %-15s %u replica%s\n",
                      ResourceName(e.resource).c_str(),
                      std::string(wire::StatusName(e.status)).c_str(),
                      e.replicas, e.replicas == 1 ? "" : "s");
        std::cout << line;
      }
    }
  }
  if (h.status == wire::Status::kOk) return kExitOk;
  return Fail(kExitNodeStatus, StatusLine(h.status));
}

}  // namespace crsp::cli
