// Ed25519 (RFC 8032) keys for check type 7, on GnuTLS. No cryptography is
// written here: this wraps gnutls_privkey / gnutls_pubkey.
#ifndef CRSP_PROTOCOL_ED25519_H_
#define CRSP_PROTOCOL_ED25519_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <span>

#include "crsp/protocol/packets.h"

namespace crsp::protocol {

using Ed25519Seed = std::array<uint8_t, wire::kEd25519SeedSize>;

// A private key. Signing is deterministic: the same seed and message give
// the same signature. Thread-safe for concurrent Sign calls.
class Ed25519Key {
 public:
  // Empty when GnuTLS refuses the seed (it should not).
  static std::optional<Ed25519Key> FromSeed(const Ed25519Seed& seed);
  // A fresh key from GnuTLS's random generator.
  static std::optional<Ed25519Key> Generate();

  Ed25519Key(Ed25519Key&&) noexcept;
  Ed25519Key& operator=(Ed25519Key&&) noexcept;
  ~Ed25519Key();

  const PublicKey& public_key() const { return public_key_; }
  const Ed25519Seed& seed() const { return seed_; }
  // Empty only if GnuTLS fails.
  std::optional<Signature> Sign(std::span<const std::byte> message) const;

 private:
  struct Impl;
  Ed25519Key(std::unique_ptr<Impl> impl, const Ed25519Seed& seed,
             const PublicKey& pub);

  std::unique_ptr<Impl> impl_;
  Ed25519Seed seed_{};
  PublicKey public_key_{};
};

// True when `signature` is a valid Ed25519 signature of `message` by `key`.
bool Ed25519Verify(const PublicKey& key, std::span<const std::byte> message,
                   const Signature& signature);

}  // namespace crsp::protocol

#endif  // CRSP_PROTOCOL_ED25519_H_
