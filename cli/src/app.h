// The `crsp` command line: builds the CLI11 parser with every subcommand,
// parses argv, runs the chosen command and returns the process exit code
// (exit_codes.h).
#ifndef CRSP_CLI_APP_H_
#define CRSP_CLI_APP_H_

namespace crsp::cli {

int RunCli(int argc, char** argv);

}  // namespace crsp::cli

#endif  // CRSP_CLI_APP_H_
