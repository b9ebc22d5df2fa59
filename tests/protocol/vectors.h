// Loads ../shared/protocol-vectors/vectors.json for the protocol tests.
// CRSP_VECTORS_PATH (a compile definition from CRSP_SHARED_DIR) names it.
// Files of the same format (tests/vectors/peer/) load by path.
#ifndef CRSP_TESTS_PROTOCOL_VECTORS_H_
#define CRSP_TESTS_PROTOCOL_VECTORS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crsp/protocol/ed25519.h"

namespace crsp::protocol::testing {

struct Vector {
  std::string name;
  std::vector<std::byte> bytes;
  std::string expect;  // "valid", "answer" or "no_answer"
  // Fields the vector lists; absent when it does not list them.
  std::optional<int64_t> protocol, type, txid, check_type, count, status,
      answer_status, decode_status;
  std::optional<Ed25519Seed> seed;
};

// Every vector of the file, in file order. Fails the calling test (and
// returns empty) when the file cannot be read or parsed.
std::vector<Vector> LoadVectors();
std::vector<Vector> LoadVectors(const std::string& path);
std::vector<std::byte> FromHex(const std::string& hex);

}  // namespace crsp::protocol::testing

#endif  // CRSP_TESTS_PROTOCOL_VECTORS_H_
