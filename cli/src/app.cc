#include "app.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "decode_command.h"
#include "exit_codes.h"

namespace crsp::cli {

int RunCli(int argc, char** argv) {
  CLI::App app{
      "crsp: sell and find idle cloud resources on a CRSP platform.\n"
      "Talks to platform nodes over UDP/IPv6 (PROTOCOL.md v1)."};
  app.footer(kExitCodeHelp);
  app.require_subcommand(1);
  int exit_code = kExitOk;

  std::vector<std::string> hex_args;
  CLI::App* decode = app.add_subcommand(
      "decode",
      "Decode one packet given as hex (argument or standard input; "
      "whitespace ignored) and print it as one JSON object. Exit 0 when it "
      "decodes and its check holds, 2 otherwise.");
  decode->add_option("HEX", hex_args, "The packet's bytes as hex");
  decode->callback([&] {
    std::string text;
    if (hex_args.empty()) {
      text.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else {
      for (const auto& a : hex_args) text += a;
    }
    DecodeOutput out = DecodeHexPacket(text);
    std::cout << out.json << "\n";
    exit_code = out.exit_code;
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "crsp: " << e.what() << "\n"
              << "Run 'crsp --help' for usage.\n";
    return kExitUsage;
  }
  return exit_code;
}

}  // namespace crsp::cli
