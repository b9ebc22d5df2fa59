// The exit codes of `crsp`, documented in docs/cli.md and `crsp --help`.
// 64, 65 and 69 follow BSD sysexits.h (EX_USAGE, EX_DATAERR,
// EX_UNAVAILABLE) so scripts can tell the classes apart.
#ifndef CRSP_CLI_EXIT_CODES_H_
#define CRSP_CLI_EXIT_CODES_H_

namespace crsp::cli {

inline constexpr int kExitOk = 0;
// A local failure: a file that cannot be read or written, a wrong
// passphrase, a key that cannot be used.
inline constexpr int kExitLocal = 1;
// `crsp decode`: the packet does not decode or its check fails.
inline constexpr int kExitDecode = 2;
// Bad flags, arguments or device file.
inline constexpr int kExitUsage = 64;
// A node answered with an error status (for register/withdraw: at least
// one entry failed).
inline constexpr int kExitNodeStatus = 65;
// No configured node answered.
inline constexpr int kExitNoNode = 69;
// `crsp query`: a node answered INCOMPLETE (PROTOCOL.md 1.1): what it read
// is printed, and is not the whole answer; ask again (EX_TEMPFAIL).
inline constexpr int kExitIncomplete = 75;

inline constexpr const char* kExitCodeHelp =
    "Exit codes: 0 ok; 1 local failure (file, key, passphrase); 2 decode "
    "error (crsp decode); 64 usage error; 65 a node answered with an error "
    "status; 69 no node answered; 75 a query answer was INCOMPLETE (partial: "
    "ask again).";

}  // namespace crsp::cli

#endif  // CRSP_CLI_EXIT_CODES_H_
