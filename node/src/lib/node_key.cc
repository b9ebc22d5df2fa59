#include "node_key.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "crsp/support/file.h"

namespace crsp::node {
namespace {

std::runtime_error KeyError(const std::string& what, const std::string& path) {
  return std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

protocol::Ed25519Key Load(const std::string& path, int fd) {
  protocol::Ed25519Seed seed{};
  const ssize_t n = ::read(fd, seed.data(), seed.size());
  char extra = 0;
  const ssize_t more = ::read(fd, &extra, 1);
  ::close(fd);
  if (n != static_cast<ssize_t>(seed.size()) || more != 0) {
    throw std::runtime_error("node key " + path +
                             " must hold exactly 32 bytes (an Ed25519 seed)");
  }
  std::optional<protocol::Ed25519Key> key =
      protocol::Ed25519Key::FromSeed(seed);
  if (!key) throw std::runtime_error("node key " + path + " is refused");
  return std::move(*key);
}

}  // namespace

protocol::Ed25519Key LoadOrCreateNodeKey(const std::string& dir) {
  const std::string path = dir + "/" + kNodeKeyFile;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) return Load(path, fd);
  if (errno != ENOENT) throw KeyError("cannot open node key", path);

  std::optional<protocol::Ed25519Key> key = protocol::Ed25519Key::Generate();
  if (!key) throw std::runtime_error("cannot generate an Ed25519 key");
  // Created whole or not at all (support::CreateFileAtomic), never over an
  // existing key.
  const auto& seed = key->seed();
  support::Result<bool> created = support::CreateFileAtomic(
      path,
      std::string_view(reinterpret_cast<const char*>(seed.data()), seed.size()),
      0600);
  if (!created) {
    throw std::runtime_error("cannot create node key: " +
                             created.status().message());
  }
  if (!*created) {  // another process won the race: use its key
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) return Load(path, fd);
    throw KeyError("cannot open node key", path);
  }
  return std::move(*key);
}

}  // namespace crsp::node
