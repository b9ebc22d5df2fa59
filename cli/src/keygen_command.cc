// `crsp keygen --out FILE`: a new Ed25519 key pair, the private key
// encrypted at rest (keyfile.h), the public key beside it in FILE.pub.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "command_support.h"
#include "commands.h"
#include "crsp/support/hex.h"
#include "keyfile.h"
#include "passphrase.h"

namespace crsp::cli {
namespace {

using support::Result;
using support::Status;

struct KeygenOptions {
  std::string out;
  std::string passphrase_file;
};

Status RunKeygen(const KeygenOptions& o) {
  Result<std::string> pass = GetPassphrase(o.passphrase_file, true);
  if (!pass) return pass.status();
  auto key = protocol::Ed25519Key::Generate();
  if (!key) return Status::IoError("GnuTLS could not generate a key");
  if (Status s = WriteKeyFiles(o.out, *key, *pass, KdfParams{}); !s.ok()) {
    return s;
  }
  std::cout << "wrote " << o.out << " (private, encrypted) and " << o.out
            << ".pub\npublic key " << support::ToHex(key->public_key()) << "\n";
  return Status::Ok();
}

}  // namespace

void AddKeygenCommand(CLI::App& app, Status& outcome) {
  auto o = std::make_shared<KeygenOptions>();
  CLI::App* cmd = app.add_subcommand(
      "keygen",
      "Make an Ed25519 key pair for signed register/withdraw. The private "
      "key file is encrypted with a passphrase (Argon2id + AES-256-GCM); "
      "the public key goes to FILE.pub.");
  cmd->add_option("--out", o->out, "Private key file to create")->required();
  cmd->add_option("--passphrase-file", o->passphrase_file,
                  "Read the passphrase from this file's first line (else "
                  "$CRSP_PASSPHRASE, else asked twice)");
  cmd->callback([o, &outcome] { outcome = RunKeygen(*o); });
}

}  // namespace crsp::cli
