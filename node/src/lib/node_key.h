// The node's own Ed25519 key (signs answers to type-7 requests; ping
// returns its public half): a 32-byte seed file in the state directory,
// created with mode 0600 on first start.
#ifndef CRSP_NODE_NODE_KEY_H_
#define CRSP_NODE_NODE_KEY_H_

#include <string>

#include "crsp/node/env.h"
#include "crsp/protocol/ed25519.h"

namespace crsp::node {

inline constexpr char kNodeKeyFile[] = "node.key";

// Loads `dir`/node.key, or creates it with a fresh key. Throws
// std::runtime_error when the file cannot be read or written, or does not
// hold exactly 32 bytes. A new key is written to a temporary file, synced,
// linked to its name, and the directory synced, all through `env`.
protocol::Ed25519Key LoadOrCreateNodeKey(const std::string& dir,
                                         Env* env = Env::Default());

}  // namespace crsp::node

#endif  // CRSP_NODE_NODE_KEY_H_
