// Replay-safe transaction ids for signed requests (PROTOCOL.md
// "Ownership": a signed register or withdraw whose id is lower than the
// last one accepted for its device gets NOT_AUTHORIZED). The id is
// max(current Unix seconds, last used + 1), and the last used id is kept
// in KEYFILE.txid beside the key, under an exclusive lock, so two crsp
// processes with the same key never use the same id.
#ifndef CRSP_CLI_TXID_COUNTER_H_
#define CRSP_CLI_TXID_COUNTER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "crsp/support/status.h"

namespace crsp::cli {

// The next id for the key at `key_path`, already recorded as used.
// IoError when the counter file cannot be read or written, or the counter
// has reached 2^32 - 1.
support::Result<uint32_t> NextSignedTxid(const std::string& key_path,
                                         uint64_t now);

// The counter file's path for a key file.
std::string TxidCounterPath(const std::string& key_path);

}  // namespace crsp::cli

#endif  // CRSP_CLI_TXID_COUNTER_H_
