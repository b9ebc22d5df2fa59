// The commands of `crsp`. Each owns its flags (after Knot's kdig_params.c):
// Add<X>Command adds the subcommand, its flags and its callback to the
// app. A command prints its result on stdout and reports failure as the
// Status it leaves in `outcome`; app.cc prints that error as one line on
// stderr and turns it into the exit code (support::ExitCodeOf, docs/cli.md).
#ifndef CRSP_CLI_COMMANDS_H_
#define CRSP_CLI_COMMANDS_H_

#include "crsp/support/status.h"
#include "settings.h"

namespace CLI {
class App;
}  // namespace CLI

namespace crsp::cli {

// `flags` are the shared flags (settings.h), read when the command runs.
void AddRegisterCommand(CLI::App& app, const GlobalFlags& flags,
                        support::Status& outcome);
void AddWithdrawCommand(CLI::App& app, const GlobalFlags& flags,
                        support::Status& outcome);
void AddQueryCommand(CLI::App& app, const GlobalFlags& flags,
                     support::Status& outcome);
// `ping` and its alias `nodes`.
void AddPingCommand(CLI::App& app, const GlobalFlags& flags,
                    support::Status& outcome);
void AddKeygenCommand(CLI::App& app, support::Status& outcome);
void AddDecodeCommand(CLI::App& app, support::Status& outcome);

}  // namespace crsp::cli

#endif  // CRSP_CLI_COMMANDS_H_
