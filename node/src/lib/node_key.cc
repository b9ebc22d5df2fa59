#include "node_key.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace crsp::node {
namespace {

std::runtime_error KeyError(const std::string& what, const std::string& path) {
  return std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

protocol::Ed25519Key Load(Env* env, const std::string& path, int fd) {
  protocol::Ed25519Seed seed{};
  const ssize_t n = env->Read(fd, seed.data(), seed.size());
  char extra = 0;
  const ssize_t more = env->Read(fd, &extra, 1);
  env->Close(fd);
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

protocol::Ed25519Key LoadOrCreateNodeKey(const std::string& dir, Env* env) {
  const std::string path = dir + "/" + kNodeKeyFile;
  int fd = env->Open(path, O_RDONLY | O_CLOEXEC, 0);
  if (fd >= 0) return Load(env, path, fd);
  if (errno != ENOENT) throw KeyError("cannot open node key", path);

  std::optional<protocol::Ed25519Key> key = protocol::Ed25519Key::Generate();
  if (!key) throw std::runtime_error("cannot generate an Ed25519 key");
  // Written to a temporary file first so that a crash never leaves a short
  // key file behind; O_EXCL on the final name is replaced by link(2).
  const std::string tmp = path + ".tmp";
  env->Unlink(tmp);
  fd = env->Open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw KeyError("cannot create node key", tmp);
  const auto& seed = key->seed();
  const bool written =
      env->WriteAll(fd, std::as_bytes(std::span(seed.data(), seed.size()))) &&
      env->Sync(fd);
  env->Close(fd);
  if (!written) {
    env->Unlink(tmp);
    throw KeyError("cannot write node key", tmp);
  }
  if (!env->Link(tmp, path)) {
    const int link_errno = errno;
    env->Unlink(tmp);
    if (link_errno == EEXIST) {  // another process won the race: its key
      fd = env->Open(path, O_RDONLY | O_CLOEXEC, 0);
      if (fd >= 0) return Load(env, path, fd);
    }
    errno = link_errno;
    throw KeyError("cannot create node key", path);
  }
  env->Unlink(tmp);
  if (!env->SyncDirectory(dir)) {
    throw KeyError("cannot sync the state directory", dir);
  }
  return std::move(*key);
}

}  // namespace crsp::node
