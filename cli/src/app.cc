#include "app.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "commands.h"
#include "crsp/support/status.h"
#include "crsp/support/version.h"
#include "exit_codes.h"
#include "settings.h"

namespace crsp::cli {
namespace {

// The one place where a command's outcome leaves the process: its error
// line on stderr (when it has one) and its exit code.
int Finish(const support::Status& outcome) {
  if (!outcome.ok() && !outcome.message().empty()) {
    std::cerr << "crsp: " << outcome.message() << "\n";
  }
  return support::ExitCodeOf(outcome);
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{
      "crsp: sell and find idle cloud resources on a CRSP platform.\n"
      "Talks to platform nodes over UDP/IPv6 (PROTOCOL.md v1)."};
  app.footer(
      std::string("Nodes: --node, else $CRSP_NODES (comma separated), else "
                  "'nodes' in $XDG_CONFIG_HOME/crsp/config.toml, else "
                  "[::1]:7400. With several, crsp uses the one with the "
                  "lowest round-trip time and fails over.\n") +
      kExitCodeHelp);
  app.set_version_flag("--version", support::VersionLine("crsp"),
                       "Print the version and git commit, and exit");
  app.require_subcommand(1);
  app.fallthrough();

  GlobalFlags flags;
  AddGlobalFlags(app, flags);
  support::Status outcome;
  AddRegisterCommand(app, flags, outcome);
  AddWithdrawCommand(app, flags, outcome);
  AddQueryCommand(app, flags, outcome);
  AddPingCommand(app, flags, outcome);
  AddKeygenCommand(app, outcome);
  AddDecodeCommand(app, outcome);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return Finish(support::Status::InvalidArgument(
        std::string(e.what()) + "\nRun 'crsp --help' for usage."));
  }
  return Finish(outcome);
}

}  // namespace crsp::cli
