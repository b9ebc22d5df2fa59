#include "crsp/protocol/ed25519.h"

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <cstring>

namespace crsp::protocol {
namespace {

// PKCS#8 (RFC 8410) prefix of an Ed25519 private key; the 32-byte seed
// follows. GnuTLS 3.7 derives the public key only on this import path:
// gnutls_privkey_import_ecc_raw wants the public key given and crashes
// without one.
constexpr uint8_t kPkcs8Prefix[] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30,
                                    0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
                                    0x04, 0x22, 0x04, 0x20};

// Encodings of the 8 points of small order (with their non-canonical
// forms, y + p, and both sign bits), computed from the curve equation. A key
// among them "verifies" forged signatures (e.g. the all-zero key with an
// all-zero signature does under GnuTLS 3.7.9), so none is ever accepted.
constexpr uint8_t kSmallOrderKeys[][wire::kEd25519PublicKeySize] = {
    {0x00},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80},
    {0x01},
    {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x85},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0xfa},
};

// True for y = p - 1, p or p + 1 (first byte 0xec, 0xed, 0xee, then 30
// bytes 0xff, then 0x7f or 0xff): the point (0, -1) and the non-canonical
// forms of y = 0 and y = 1.
bool IsHighSmallOrderKey(const PublicKey& key) {
  if (key[0] < 0xec || key[0] > 0xee) {
    return false;
  }
  for (size_t i = 1; i < key.size() - 1; ++i) {
    if (key[i] != 0xff) {
      return false;
    }
  }
  return (key.back() & 0x7f) == 0x7f;
}

bool IsSmallOrderKey(const PublicKey& key) {
  for (const auto& bad : kSmallOrderKeys) {
    if (std::memcmp(bad, key.data(), key.size()) == 0) {
      return true;
    }
  }
  return IsHighSmallOrderKey(key);
}

gnutls_datum_t Datum(const void* data, size_t size) {
  return gnutls_datum_t{
      const_cast<unsigned char*>(static_cast<const unsigned char*>(data)),
      static_cast<unsigned int>(size)};
}

}  // namespace

struct Ed25519Key::Impl {
  gnutls_privkey_t key = nullptr;
  ~Impl() {
    if (key != nullptr) {
      gnutls_privkey_deinit(key);
    }
  }
};

Ed25519Key::Ed25519Key(std::unique_ptr<Impl> impl, const Ed25519Seed& seed,
                       const PublicKey& pub)
    : impl_(std::move(impl)), seed_(seed), public_key_(pub) {}
Ed25519Key::Ed25519Key(Ed25519Key&&) noexcept = default;
Ed25519Key& Ed25519Key::operator=(Ed25519Key&&) noexcept = default;
Ed25519Key::~Ed25519Key() = default;

std::optional<Ed25519Key> Ed25519Key::FromSeed(const Ed25519Seed& seed) {
  uint8_t der[sizeof kPkcs8Prefix + wire::kEd25519SeedSize];
  std::memcpy(der, kPkcs8Prefix, sizeof kPkcs8Prefix);
  std::memcpy(der + sizeof kPkcs8Prefix, seed.data(), seed.size());
  gnutls_datum_t der_datum = Datum(der, sizeof der);

  gnutls_x509_privkey_t x509 = nullptr;
  if (gnutls_x509_privkey_init(&x509) < 0) {
    return std::nullopt;
  }
  int rc = gnutls_x509_privkey_import(x509, &der_datum, GNUTLS_X509_FMT_DER);
  // The seed is secret: wipe the copy whatever happened.
  gnutls_memset(der, 0, sizeof der);
  if (rc < 0) {
    gnutls_x509_privkey_deinit(x509);
    return std::nullopt;
  }
  auto impl = std::make_unique<Impl>();
  if (gnutls_privkey_init(&impl->key) < 0) {
    gnutls_x509_privkey_deinit(x509);
    return std::nullopt;
  }
  if (gnutls_privkey_import_x509(impl->key, x509,
                                 GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE) < 0) {
    gnutls_x509_privkey_deinit(x509);
    return std::nullopt;
  }
  gnutls_ecc_curve_t curve;
  gnutls_datum_t x{}, k{};
  rc = gnutls_privkey_export_ecc_raw2(impl->key, &curve, &x, nullptr, &k, 0);
  if (rc < 0) {
    return std::nullopt;
  }
  PublicKey pub{};
  bool good = curve == GNUTLS_ECC_CURVE_ED25519 && x.size == pub.size();
  if (good) {
    std::memcpy(pub.data(), x.data, pub.size());
  }
  gnutls_free(x.data);
  if (k.data != nullptr) {
    gnutls_memset(k.data, 0, k.size);
    gnutls_free(k.data);
  }
  if (!good) {
    return std::nullopt;
  }
  return Ed25519Key(std::move(impl), seed, pub);
}

std::optional<Ed25519Key> Ed25519Key::Generate() {
  Ed25519Seed seed{};
  if (gnutls_rnd(GNUTLS_RND_KEY, seed.data(), seed.size()) < 0) {
    return std::nullopt;
  }
  auto key = FromSeed(seed);
  gnutls_memset(seed.data(), 0, seed.size());
  return key;
}

std::optional<Signature> Ed25519Key::Sign(
    std::span<const std::byte> message) const {
  gnutls_datum_t data = Datum(message.data(), message.size());
  gnutls_datum_t sig{};
  if (gnutls_privkey_sign_data2(impl_->key, GNUTLS_SIGN_EDDSA_ED25519, 0, &data,
                                &sig) < 0) {
    return std::nullopt;
  }
  std::optional<Signature> out;
  if (sig.size == wire::kEd25519SignatureSize) {
    out.emplace();
    std::memcpy(out->data(), sig.data, sig.size);
  }
  gnutls_free(sig.data);
  return out;
}

bool Ed25519Verify(const PublicKey& key, std::span<const std::byte> message,
                   const Signature& signature) {
  if (IsSmallOrderKey(key)) {
    return false;
  }
  gnutls_pubkey_t pub = nullptr;
  if (gnutls_pubkey_init(&pub) < 0) {
    return false;
  }
  gnutls_datum_t x = Datum(key.data(), key.size());
  bool ok = false;
  if (gnutls_pubkey_import_ecc_raw(pub, GNUTLS_ECC_CURVE_ED25519, &x,
                                   nullptr) >= 0) {
    gnutls_datum_t data = Datum(message.data(), message.size());
    gnutls_datum_t sig = Datum(signature.data(), signature.size());
    ok = gnutls_pubkey_verify_data2(pub, GNUTLS_SIGN_EDDSA_ED25519, 0, &data,
                                    &sig) >= 0;
  }
  gnutls_pubkey_deinit(pub);
  return ok;
}

}  // namespace crsp::protocol
