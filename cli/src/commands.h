// The network and key commands of `crsp`. Each takes its parsed options
// plus the resolved settings, does its work through NodeClient, prints its
// result on stdout and errors as one line on stderr, and returns the exit
// code (exit_codes.h). app.cc maps flags onto these structs.
#ifndef CRSP_CLI_COMMANDS_H_
#define CRSP_CLI_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "settings.h"

namespace crsp::cli {

// Signing for register/withdraw: --key FILE, passphrase sources.
struct KeyOptions {
  std::string key_path;         // empty: unsigned
  std::string passphrase_file;  // empty: CRSP_PASSPHRASE or prompt
};

struct RegisterOptions {
  std::string file;  // device file; empty: the single-resource flags
  // Single resource from flags (used when `file` is empty).
  std::string device, kind = "other", currency, contact;
  std::string resource, price, unit, from = "now", until;
  uint32_t quantity = 0;
  KeyOptions key;
  bool json = false;
};
int RunRegister(const RegisterOptions& options, const GlobalFlags& flags);

struct WithdrawOptions {
  std::string file;                    // device file (for its device id)
  std::string device;                  // or the device id directly
  std::vector<std::string> resources;  // empty: every offer of the device
  KeyOptions key;
  bool json = false;
};
int RunWithdraw(const WithdrawOptions& options, const GlobalFlags& flags);

struct QueryOptions {
  std::vector<std::string> resources;
  std::string max_price, unit, currency, from, until;
  uint32_t min_quantity = 0;
  uint32_t limit = 0;  // 0: every page
  bool json = false;
};
int RunQuery(const QueryOptions& options, const GlobalFlags& flags);

struct PingOptions {
  bool json = false;
};
int RunPing(const PingOptions& options, const GlobalFlags& flags);

struct KeygenOptions {
  std::string out;
  std::string passphrase_file;
};
int RunKeygen(const KeygenOptions& options);

}  // namespace crsp::cli

#endif  // CRSP_CLI_COMMANDS_H_
