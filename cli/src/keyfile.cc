#include "keyfile.h"

#include <argon2.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "crsp/support/file.h"
#include "crsp/support/hex.h"

namespace crsp::cli {
namespace {

// Layout (docs/keyfile.md). Everything before the ciphertext is the
// AEAD's associated data.
constexpr char kMagic[8] = {'C', 'R', 'S', 'P', '-', 'K', 'E', 'Y'};
constexpr uint8_t kFormatVersion = 1;
constexpr uint8_t kKdfArgon2id = 2;  // libargon2's Argon2_id
constexpr size_t kOffVersion = 8;
constexpr size_t kOffKdf = 9;
constexpr size_t kOffTCost = 12;
constexpr size_t kOffMCost = 16;
constexpr size_t kOffParallelism = 20;
constexpr size_t kOffSalt = 24;
constexpr size_t kSaltSize = 16;
constexpr size_t kOffNonce = kOffSalt + kSaltSize;  // 40
constexpr size_t kNonceSize = 12;
constexpr size_t kOffPublicKey = kOffNonce + kNonceSize;  // 52
constexpr size_t kOffCiphertext = kOffPublicKey + 32;     // 84
constexpr size_t kTagSize = 16;
static_assert(kOffCiphertext + wire::kEd25519SeedSize + kTagSize ==
              kKeyFileSize);

// Bounds on costs read from a file, so a crafted file cannot make crsp
// allocate gigabytes or spin for hours.
constexpr uint32_t kMaxTCost = 64;
constexpr uint32_t kMaxMCostKib = 1u << 21;  // 2 GiB
constexpr uint32_t kMaxParallelism = 16;

void PutU32(uint8_t* p, uint32_t v) {
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}
uint32_t GetU32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 |
         p[3];
}

bool DeriveKey(std::string_view passphrase, const uint8_t* salt,
               const KdfParams& params, uint8_t out[32]) {
  return argon2id_hash_raw(params.t_cost, params.m_cost_kib, params.parallelism,
                           passphrase.data(), passphrase.size(), salt,
                           kSaltSize, out, 32) == ARGON2_OK;
}

// AES-256-GCM over `in` with the file's header as associated data.
// Encrypting writes ciphertext+tag to `out`; decrypting reads it.
bool Aead(bool encrypt, const uint8_t key[32], const uint8_t* nonce,
          std::span<const uint8_t> aad, std::span<const uint8_t> in,
          uint8_t* out, size_t out_size) {
  gnutls_datum_t key_datum{const_cast<uint8_t*>(key), 32};
  gnutls_aead_cipher_hd_t handle;
  if (gnutls_aead_cipher_init(&handle, GNUTLS_CIPHER_AES_256_GCM, &key_datum) <
      0) {
    return false;
  }
  size_t out_len = out_size;
  int rc = encrypt ? gnutls_aead_cipher_encrypt(
                         handle, nonce, kNonceSize, aad.data(), aad.size(),
                         kTagSize, in.data(), in.size(), out, &out_len)
                   : gnutls_aead_cipher_decrypt(
                         handle, nonce, kNonceSize, aad.data(), aad.size(),
                         kTagSize, in.data(), in.size(), out, &out_len);
  gnutls_aead_cipher_deinit(handle);
  return rc >= 0 && out_len == out_size;
}

}  // namespace

std::optional<std::vector<uint8_t>> SealKey(const protocol::Ed25519Key& key,
                                            std::string_view passphrase,
                                            const KdfParams& params,
                                            std::string* error) {
  std::vector<uint8_t> file(kKeyFileSize, 0);
  std::memcpy(file.data(), kMagic, sizeof kMagic);
  file[kOffVersion] = kFormatVersion;
  file[kOffKdf] = kKdfArgon2id;
  PutU32(&file[kOffTCost], params.t_cost);
  PutU32(&file[kOffMCost], params.m_cost_kib);
  PutU32(&file[kOffParallelism], params.parallelism);
  if (gnutls_rnd(GNUTLS_RND_KEY, &file[kOffSalt], kSaltSize) < 0 ||
      gnutls_rnd(GNUTLS_RND_NONCE, &file[kOffNonce], kNonceSize) < 0) {
    *error = "the random generator failed";
    return std::nullopt;
  }
  std::memcpy(&file[kOffPublicKey], key.public_key().data(), 32);
  uint8_t derived[32];
  if (!DeriveKey(passphrase, &file[kOffSalt], params, derived)) {
    *error = "Argon2id failed (out of memory?)";
    return std::nullopt;
  }
  bool ok =
      Aead(true, derived, &file[kOffNonce],
           std::span<const uint8_t>(file.data(), kOffCiphertext), key.seed(),
           &file[kOffCiphertext], wire::kEd25519SeedSize + kTagSize);
  gnutls_memset(derived, 0, sizeof derived);
  if (!ok) {
    *error = "AES-256-GCM encryption failed";
    return std::nullopt;
  }
  return file;
}

std::optional<protocol::PublicKey> KeyFilePublicKey(
    std::span<const uint8_t> file) {
  if (file.size() != kKeyFileSize ||
      std::memcmp(file.data(), kMagic, sizeof kMagic) != 0) {
    return std::nullopt;
  }
  protocol::PublicKey pub;
  std::memcpy(pub.data(), &file[kOffPublicKey], pub.size());
  return pub;
}

std::optional<protocol::Ed25519Key> OpenKey(std::span<const uint8_t> file,
                                            std::string_view passphrase,
                                            OpenKeyError* why) {
  *why = OpenKeyError::kFormat;
  if (file.size() != kKeyFileSize ||
      std::memcmp(file.data(), kMagic, sizeof kMagic) != 0 ||
      file[kOffVersion] != kFormatVersion || file[kOffKdf] != kKdfArgon2id) {
    return std::nullopt;
  }
  KdfParams params{GetU32(&file[kOffTCost]), GetU32(&file[kOffMCost]),
                   GetU32(&file[kOffParallelism])};
  if (params.t_cost < 1 || params.t_cost > kMaxTCost || params.m_cost_kib < 8 ||
      params.m_cost_kib > kMaxMCostKib || params.parallelism < 1 ||
      params.parallelism > kMaxParallelism) {
    return std::nullopt;
  }
  uint8_t derived[32];
  if (!DeriveKey(passphrase, &file[kOffSalt], params, derived)) {
    *why = OpenKeyError::kCrypto;
    return std::nullopt;
  }
  protocol::Ed25519Seed seed{};
  bool ok =
      Aead(false, derived, &file[kOffNonce], file.subspan(0, kOffCiphertext),
           file.subspan(kOffCiphertext), seed.data(), seed.size());
  gnutls_memset(derived, 0, sizeof derived);
  if (!ok) {
    *why = OpenKeyError::kWrongPassphrase;
    return std::nullopt;
  }
  auto key = protocol::Ed25519Key::FromSeed(seed);
  gnutls_memset(seed.data(), 0, seed.size());
  if (!key ||
      std::memcmp(key->public_key().data(), &file[kOffPublicKey], 32) != 0) {
    *why = OpenKeyError::kFormat;
    return std::nullopt;
  }
  *why = OpenKeyError::kNone;
  return key;
}

support::Status WriteKeyFiles(const std::string& path,
                              const protocol::Ed25519Key& key,
                              std::string_view passphrase,
                              const KdfParams& params) {
  if (access(path.c_str(), F_OK) == 0) {
    return support::Status::IoError(
        path + " already exists; pick another --out or remove it");
  }
  std::string error;
  auto sealed = SealKey(key, passphrase, params, &error);
  if (!sealed) return support::Status::IoError(error);
  std::string_view bytes(reinterpret_cast<const char*>(sealed->data()),
                         sealed->size());
  support::Status status = support::WriteFileAtomic(path, bytes, 0600);
  if (!status.ok()) return status;
  return support::WriteFileAtomic(
      path + ".pub", support::ToHex(key.public_key()) + "\n", 0644);
}

}  // namespace crsp::cli
