// Pieces the network commands share: the signing flags and key, the
// request header, the "no node answered" error, and printing per-entry
// results.
#ifndef CRSP_CLI_COMMAND_SUPPORT_H_
#define CRSP_CLI_COMMAND_SUPPORT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crsp/protocol/ed25519.h"
#include "crsp/support/status.h"
#include "node_client.h"
#include "settings.h"

namespace CLI {
class App;
}  // namespace CLI

namespace crsp::cli {

// Signing for register/withdraw: --key FILE, passphrase sources.
struct KeyOptions {
  std::string key_path;         // empty: unsigned
  std::string passphrase_file;  // empty: CRSP_PASSPHRASE or prompt
};
// Adds --key and --passphrase-file to `command`.
void AddKeyOptions(CLI::App& command, KeyOptions& key);

// Prints "crsp: warning: <message>" on stderr.
void Warn(std::string_view message);

// The "no node answered" error (Unavailable) naming the nodes tried.
support::Status NoNodeAnswered(const std::vector<Endpoint>& nodes);

// The key of --key, decrypted; nullopt when no --key was given. IoError
// when it cannot be read or decrypted.
support::Result<std::optional<protocol::Ed25519Key>> LoadSigner(
    const KeyOptions& options);

// Header of a request: signed requests (a key) use check type 7 and the
// key's persisted counter; others a random txid and settings' check type.
// IoError when the counter fails.
support::Result<protocol::Header> RequestHeader(
    wire::PacketKind kind, const Settings& settings, const KeyOptions& key,
    const std::optional<protocol::Ed25519Key>& signer);

// Sends a register or withdraw request with `body`, signed when `key`
// names a key file, through the settings' nodes. The answer, whatever its
// status; IoError when the key, its counter or the signing fails,
// Unavailable when no node answered.
support::Result<NodeAnswer> SendWrite(wire::PacketKind kind,
                                      const protocol::Body& body,
                                      const Settings& settings,
                                      const KeyOptions& key);

// Prints a register/withdraw answer: one line per entry (nothing when the
// answer has no body), or JSON. OK when the header status is OK, else
// Refused with the status line.
support::Status ReportEntryResults(const NodeAnswer& answer,
                                   std::string_view verb, bool json);

}  // namespace crsp::cli

#endif  // CRSP_CLI_COMMAND_SUPPORT_H_
