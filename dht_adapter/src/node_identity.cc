#include "node_identity.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "crsp/support/file.h"

namespace crsp::dht {
namespace {

namespace fs = std::filesystem;

// RSA, as OpenDHT 2.4.12 expects of an identity: it verifies every value
// signature as RSA-SHA512 (crypto.cpp, PublicKey::checkSignature). 2048
// bits: ~60 ms to generate once. The node signs no offer value with it
// (~2 ms each); it only fixes the node id.
::dht::crypto::Identity Generate() {
  return ::dht::crypto::generateIdentity("crsp-node", {}, 2048);
}

::dht::Blob ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return ::dht::Blob((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

// Crash-safe (support::WriteFileAtomic): a crash never leaves half a key,
// and the names survive it (file and directory fsync'd).
void WriteFile(const fs::path& path, const ::dht::Blob& data, bool secret) {
  const support::Status status = support::WriteFileAtomic(
      path.string(),
      std::string_view(reinterpret_cast<const char*>(data.data()), data.size()),
      secret ? 0600 : 0644);
  if (!status.ok()) throw std::runtime_error(status.message());
}

}  // namespace

::dht::crypto::Identity LoadOrCreateIdentity(const std::string& dir) {
  if (dir.empty()) return Generate();
  const fs::path key_path = fs::path(dir) / "identity.key";
  const fs::path crt_path = fs::path(dir) / "identity.crt";
  try {
    fs::create_directories(dir);
    if (fs::exists(key_path) && fs::exists(crt_path)) {
      auto key =
          std::make_shared<::dht::crypto::PrivateKey>(ReadFile(key_path));
      auto crt =
          std::make_shared<::dht::crypto::Certificate>(ReadFile(crt_path));
      if (key->getPublicKey().getId() != crt->getPublicKey().getId()) {
        throw std::runtime_error("identity.key does not match identity.crt");
      }
      return {key, crt};
    }
    ::dht::crypto::Identity id = Generate();
    WriteFile(key_path, id.first->serialize(), /*secret=*/true);
    ::dht::Blob crt;
    id.second->pack(crt);
    WriteFile(crt_path, crt, /*secret=*/false);
    return id;
  } catch (const std::runtime_error&) {
    throw;
  } catch (const std::exception& e) {
    // Filesystem and GnuTLS errors alike become start-up errors.
    throw std::runtime_error("identity in " + dir + ": " + e.what());
  }
}

}  // namespace crsp::dht
