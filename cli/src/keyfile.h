// The private key file of `crsp keygen`: an Ed25519 seed encrypted at rest
// with AES-256-GCM (GnuTLS) under a key derived from a passphrase by
// Argon2id (libargon2). docs/keyfile.md describes the bytes. The public key
// rides in clear (authenticated) so `crsp` can show it without the
// passphrase.
#ifndef CRSP_CLI_KEYFILE_H_
#define CRSP_CLI_KEYFILE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crsp/protocol/ed25519.h"
#include "crsp/support/status.h"

namespace crsp::cli {

struct KdfParams {
  uint32_t t_cost = 3;          // Argon2 passes
  uint32_t m_cost_kib = 65536;  // 64 MiB
  uint32_t parallelism = 1;
};

inline constexpr size_t kKeyFileSize = 132;

// The file bytes for `key` under `passphrase`, with a fresh salt and nonce.
// Empty with `error` when the random generator, Argon2 or GnuTLS fails.
std::optional<std::vector<uint8_t>> SealKey(const protocol::Ed25519Key& key,
                                            std::string_view passphrase,
                                            const KdfParams& params,
                                            std::string* error);

// The public key stored in a key file, without decrypting it.
std::optional<protocol::PublicKey> KeyFilePublicKey(
    std::span<const uint8_t> file);

enum class OpenKeyError { kNone, kFormat, kWrongPassphrase, kCrypto };

// The key sealed in `file`. kWrongPassphrase when authentication fails
// (a wrong passphrase, or a file changed after sealing); kFormat when the
// bytes are not a key file this version reads or carry absurd Argon2 costs.
std::optional<protocol::Ed25519Key> OpenKey(std::span<const uint8_t> file,
                                            std::string_view passphrase,
                                            OpenKeyError* why);

// Writes the sealed key to `path` (mode 0600) and the public key as hex
// text to `path`.pub. Refuses to replace an existing file. IoError saying
// why otherwise.
support::Status WriteKeyFiles(const std::string& path,
                              const protocol::Ed25519Key& key,
                              std::string_view passphrase,
                              const KdfParams& params);

}  // namespace crsp::cli

#endif  // CRSP_CLI_KEYFILE_H_
