#include "app.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "commands.h"
#include "decode_command.h"
#include "exit_codes.h"
#include "names.h"

namespace crsp::cli {
namespace {

void AddKeyOptions(CLI::App* cmd, KeyOptions* key) {
  cmd->add_option("--key", key->key_path,
                  "Sign with this key file (check type 7; see crsp keygen)");
  cmd->add_option("--passphrase-file", key->passphrase_file,
                  "Read the key's passphrase from this file's first line "
                  "(else $CRSP_PASSPHRASE, else a prompt)");
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
  app.require_subcommand(1);
  app.fallthrough();
  int exit_code = kExitOk;

  GlobalFlags flags;
  app.add_option("--node", flags.nodes,
                 "A node to talk to, [IPv6]:port or host:port (repeatable)");
  app.add_option("--check", flags.check,
                 "Check type of requests: crc (default), md5, sum, bcc, lrc, "
                 "parity, none");
  app.add_option("--config", flags.config_path,
                 "Config file (default $XDG_CONFIG_HOME/crsp/config.toml)");
  app.add_option("--timeout-ms", flags.timeout_ms,
                 "First resend timeout, doubled on each try (default 500)");
  app.add_option("--tries", flags.tries,
                 "Sends per node before failing over (default 4)");

  // --- register ---
  RegisterOptions reg;
  CLI::App* reg_cmd = app.add_subcommand(
      "register",
      "Offer a device's resources for sale, from a device FILE (TOML, see "
      "docs/cli.md) or one resource from flags. Prints each resource's "
      "status and replicas. Writes the new device id into FILE on first "
      "register.");
  reg_cmd->add_option("FILE", reg.file, "Device file (TOML)");
  reg_cmd->add_option("--device", reg.device,
                      "Device id, 32 hex digits (single resource; default: "
                      "a new random id)");
  reg_cmd->add_option("--kind", reg.kind,
                      "computer, printer, car, radio, other (default other)");
  reg_cmd->add_option("--currency", reg.currency, "ISO 4217 code, e.g. CNY");
  reg_cmd->add_option("--contact", reg.contact,
                      "[IPv6]:port buyers reach the device at (default: "
                      "this request's source)");
  reg_cmd->add_option("--resource", reg.resource, ResourceNameList());
  reg_cmd->add_option("--price", reg.price,
                      "Major units per billing unit, e.g. 0.10/page");
  reg_cmd->add_option("--unit", reg.unit,
                      "Billing unit when --price has none: use, hour, page, "
                      "gib-hour, km, day");
  reg_cmd->add_option("--quantity", reg.quantity, "Quantity available (>= 1)");
  reg_cmd->add_option("--from", reg.from,
                      "Valid from: ISO 8601, now, or +30m/+8h/+2d (default "
                      "now)");
  reg_cmd->add_option("--until", reg.until, "Valid until (same forms)");
  reg_cmd->add_flag("--json", reg.json, "Print the result as JSON");
  AddKeyOptions(reg_cmd, &reg.key);
  reg_cmd->callback([&] { exit_code = RunRegister(reg, flags); });

  // --- withdraw ---
  WithdrawOptions wd;
  CLI::App* wd_cmd = app.add_subcommand(
      "withdraw",
      "Take a device's offers off sale: every offer, or those named with "
      "--resource.");
  wd_cmd->add_option("FILE", wd.file, "Device file (for its device id)");
  wd_cmd->add_option("--device", wd.device, "Device id, 32 hex digits");
  wd_cmd->add_option("--resource", wd.resources,
                     "Withdraw only this resource (repeatable)");
  wd_cmd->add_flag("--json", wd.json, "Print the result as JSON");
  AddKeyOptions(wd_cmd, &wd.key);
  wd_cmd->callback([&] { exit_code = RunWithdraw(wd, flags); });

  // --- query ---
  QueryOptions q;
  CLI::App* q_cmd = app.add_subcommand(
      "query",
      "Find offers of the named resources, cheapest first. Fetches every "
      "page unless --limit.");
  q_cmd->add_option("RESOURCE", q.resources, ResourceNameList())->required();
  q_cmd->add_option("--max-price", q.max_price,
                    "Highest price, major units (e.g. 3.00 or 3.00/hour)");
  q_cmd->add_option("--unit", q.unit, "Billing unit (default any)");
  q_cmd->add_option("--min-quantity", q.min_quantity, "Smallest quantity");
  q_cmd->add_option("--from", q.from, "Wanted from (default now)");
  q_cmd->add_option("--until", q.until, "Wanted until (default no end)");
  q_cmd->add_option("--currency", q.currency, "Only this currency");
  q_cmd->add_option("--limit", q.limit, "At most this many offers");
  q_cmd->add_flag("--json", q.json, "One JSON document instead of a table");
  q_cmd->callback([&] { exit_code = RunQuery(q, flags); });

  // --- ping / nodes ---
  PingOptions ping;
  for (const char* name : {"ping", "nodes"}) {
    CLI::App* p = app.add_subcommand(
        name,
        "Ping every configured node: round-trip time, node id, peers, "
        "offers. Exit 69 when none answers.");
    p->add_flag("--json", ping.json, "Print JSON");
    p->callback([&] { exit_code = RunPing(ping, flags); });
  }

  // --- keygen ---
  KeygenOptions kg;
  CLI::App* kg_cmd = app.add_subcommand(
      "keygen",
      "Make an Ed25519 key pair for signed register/withdraw. The private "
      "key file is encrypted with a passphrase (Argon2id + AES-256-GCM); "
      "the public key goes to FILE.pub.");
  kg_cmd->add_option("--out", kg.out, "Private key file to create")->required();
  kg_cmd->add_option("--passphrase-file", kg.passphrase_file,
                     "Read the passphrase from this file's first line (else "
                     "$CRSP_PASSPHRASE, else asked twice)");
  kg_cmd->callback([&] { exit_code = RunKeygen(kg); });

  // --- decode ---
  std::vector<std::string> hex_args;
  CLI::App* decode = app.add_subcommand(
      "decode",
      "Decode one packet given as hex (arguments or standard input; "
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
