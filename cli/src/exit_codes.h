// The exit codes of `crsp`, as `crsp --help` states them and docs/cli.md
// documents them. The numbers come from one place, support::ExitCodeOf
// (crsp/support/status.h): 64, 65 and 69 follow BSD sysexits.h (EX_USAGE,
// EX_DATAERR, EX_UNAVAILABLE) so scripts can tell the classes apart.
#ifndef CRSP_CLI_EXIT_CODES_H_
#define CRSP_CLI_EXIT_CODES_H_

namespace crsp::cli {

inline constexpr const char* kExitCodeHelp =
    "Exit codes: 0 ok; 1 local failure (file, key, passphrase); 2 decode "
    "error (crsp decode); 64 usage error; 65 a node answered with an error "
    "status; 69 no node answered; 75 a query answer was INCOMPLETE (partial: "
    "ask again).";

}  // namespace crsp::cli

#endif  // CRSP_CLI_EXIT_CODES_H_
