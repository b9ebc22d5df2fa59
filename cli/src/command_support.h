// Pieces the network commands share: error lines, loading the signing key,
// choosing transaction id and check type, and printing per-entry results.
#ifndef CRSP_CLI_COMMAND_SUPPORT_H_
#define CRSP_CLI_COMMAND_SUPPORT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "crsp/protocol/ed25519.h"
#include "node_client.h"

namespace crsp::cli {

// Prints "crsp: <message>" on stderr and returns `exit_code`.
int Fail(int exit_code, std::string_view message);

// The "no node answered" error (kExitNoNode) naming the nodes tried.
int FailNoNode(const std::vector<Endpoint>& nodes);

// The key of --key, decrypted; `exit_code` set on failure (after the error
// line was printed). Empty without error when no --key was given.
struct Signer {
  std::optional<protocol::Ed25519Key> key;
  int exit_code = 0;  // non-zero: failed
};
Signer LoadSigner(const KeyOptions& options);

// Header of a request: signed requests (a key) use check type 7 and the
// key's persisted counter; others a random txid and settings' check type.
// Empty with the error printed (exit code in `exit_code`) when the counter
// fails.
std::optional<protocol::Header> RequestHeader(wire::PacketKind kind,
                                              const Settings& settings,
                                              const KeyOptions& key,
                                              const Signer& signer,
                                              int* exit_code);

// Prints a register/withdraw answer: one line per entry (nothing when the
// answer has no body), or JSON. Returns
// kExitOk when the header status is OK, else prints the status line and
// returns kExitNodeStatus.
int ReportEntryResults(const NodeAnswer& answer, std::string_view verb,
                       bool json);

}  // namespace crsp::cli

#endif  // CRSP_CLI_COMMAND_SUPPORT_H_
