// `crsp keygen --out FILE`: a new Ed25519 key pair, the private key
// encrypted at rest (keyfile.h), the public key beside it in FILE.pub.
#include <iostream>

#include "command_support.h"
#include "commands.h"
#include "exit_codes.h"
#include "hex.h"
#include "keyfile.h"
#include "passphrase.h"

namespace crsp::cli {

int RunKeygen(const KeygenOptions& o) {
  std::string error;
  auto pass = GetPassphrase(o.passphrase_file, true, &error);
  if (!pass) return Fail(kExitLocal, error);
  auto key = protocol::Ed25519Key::Generate();
  if (!key) return Fail(kExitLocal, "GnuTLS could not generate a key");
  if (!WriteKeyFiles(o.out, *key, *pass, KdfParams{}, &error)) {
    return Fail(kExitLocal, error);
  }
  std::cout << "wrote " << o.out << " (private, encrypted) and " << o.out
            << ".pub\npublic key " << ToHex(key->public_key()) << "\n";
  return kExitOk;
}

}  // namespace crsp::cli
