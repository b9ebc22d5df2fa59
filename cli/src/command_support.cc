#include "command_support.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <variant>

#include "crsp/support/clock.h"
#include "crsp/support/file.h"
#include "crsp/support/hex.h"
#include "json_writer.h"
#include "keyfile.h"
#include "names.h"
#include "passphrase.h"
#include "status_text.h"
#include "time_spec.h"
#include "txid_counter.h"

namespace crsp::cli {

void AddKeyOptions(CLI::App& command, KeyOptions& key) {
  command.add_option("--key", key.key_path,
                     "Sign with this key file (check type 7; see crsp keygen)");
  command.add_option("--passphrase-file", key.passphrase_file,
                     "Read the key's passphrase from this file's first line "
                     "(else $CRSP_PASSPHRASE, else a prompt)");
}

void Warn(std::string_view message) {
  std::cerr << "crsp: warning: " << message << "\n";
}

support::Status NoNodeAnswered(const std::vector<Endpoint>& nodes) {
  std::string list;
  for (const auto& n : nodes) {
    if (!list.empty()) list += ", ";
    list += support::FormatEndpoint(n);
  }
  return support::Status::Unavailable(
      "no node answered (tried " + list +
      "); check that a node runs there, or name others with --node or "
      "CRSP_NODES");
}

support::Result<std::optional<protocol::Ed25519Key>> LoadSigner(
    const KeyOptions& options) {
  if (options.key_path.empty()) return std::optional<protocol::Ed25519Key>();
  support::Result<std::string> bytes = support::ReadFile(options.key_path);
  if (!bytes) {
    return support::Status::IoError("cannot read key: " +
                                    bytes.status().message());
  }
  support::Result<std::string> pass =
      GetPassphrase(options.passphrase_file, false);
  if (!pass) return pass.status();
  OpenKeyError why;
  std::optional<protocol::Ed25519Key> key = OpenKey(
      std::span(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()),
      *pass, &why);
  if (key) return std::optional<protocol::Ed25519Key>(std::move(key));
  switch (why) {
    case OpenKeyError::kWrongPassphrase:
      return support::Status::IoError("wrong passphrase for " +
                                      options.key_path +
                                      " (or the key file was changed)");
    case OpenKeyError::kFormat:
      return support::Status::IoError(options.key_path +
                                      " is not a crsp key file (make one with "
                                      "'crsp keygen --out FILE')");
    default:
      return support::Status::IoError("cannot decrypt " + options.key_path +
                                      " (out of memory?)");
  }
}

support::Result<protocol::Header> RequestHeader(
    wire::PacketKind kind, const Settings& settings, const KeyOptions& key,
    const std::optional<protocol::Ed25519Key>& signer) {
  if (!signer) return protocol::HeaderFor(kind, RandomTxid(), settings.check);
  support::Result<uint32_t> txid =
      NextSignedTxid(key.key_path, support::UnixSeconds());
  if (!txid) return txid.status();
  return protocol::HeaderFor(kind, *txid, wire::CheckType::kEd25519);
}

support::Result<NodeAnswer> SendWrite(wire::PacketKind kind,
                                      const protocol::Body& body,
                                      const Settings& settings,
                                      const KeyOptions& key) {
  support::Result<std::optional<protocol::Ed25519Key>> signer = LoadSigner(key);
  if (!signer) return signer.status();
  support::Result<protocol::Header> header =
      RequestHeader(kind, settings, key, *signer);
  if (!header) return header.status();
  NodeClient client(settings.nodes, settings.policy);
  bool encode_failed = false;
  std::optional<NodeAnswer> answer =
      client.Send(protocol::Packet{*header, body},
                  *signer ? &**signer : nullptr, &encode_failed);
  if (encode_failed) {
    return support::Status::IoError("could not sign the request");
  }
  if (!answer) return NoNodeAnswered(client.order());
  return std::move(*answer);
}

support::Status ReportEntryResults(const NodeAnswer& answer,
                                   std::string_view verb, bool json) {
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
    w.Field("node", support::FormatEndpoint(answer.node));
    w.Field("txid", h.txid);
    w.Field("status", wire::StatusName(h.status));
    if (body) {
      w.Field("device_id", support::ToHex(body->device));
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
    std::cout << verb << " via " << support::FormatEndpoint(answer.node) << " ("
              << rtt << "), device " << support::ToHex(body->device) << "\n";
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
  if (h.status == wire::Status::kOk) return support::Status::Ok();
  return support::Status::Refused(StatusLine(h.status));
}

}  // namespace crsp::cli
