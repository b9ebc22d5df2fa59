// `crsp withdraw FILE|--device ID [--resource NAME]...`: takes offers off
// sale before their validity ends.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <memory>

#include "command_support.h"
#include "commands.h"
#include "crsp/support/clock.h"
#include "crsp/support/hex.h"
#include "device_file.h"
#include "names.h"

namespace crsp::cli {
namespace {

using support::Result;
using support::Status;

struct WithdrawOptions {
  std::string file;                    // device file (for its device id)
  std::string device;                  // or the device id directly
  std::vector<std::string> resources;  // empty: every offer of the device
  KeyOptions key;
  bool json = false;
};

Status RunWithdraw(const WithdrawOptions& o, const GlobalFlags& flags) {
  Result<Settings> settings = ResolveSettings(flags);
  if (!settings) return settings.status();

  protocol::WithdrawRequest body;
  if (!o.device.empty()) {
    auto id = support::ParseHexArray<wire::kDeviceIdSize>(o.device);
    if (!id) return Status::InvalidArgument("--device must be 32 hex digits");
    body.device = *id;
  } else if (!o.file.empty()) {
    if (access(o.file.c_str(), R_OK) != 0) {
      return Status::IoError("cannot read " + o.file + ": " +
                             std::strerror(errno));
    }
    Result<DeviceFile> file = LoadDeviceFile(o.file, support::UnixSeconds());
    if (!file) return file.status();
    if (!file->device) {
      return Status::InvalidArgument(
          o.file +
          " has no device id yet: it was never registered, so there is "
          "nothing to withdraw");
    }
    body.device = *file->device;
  } else {
    return Status::InvalidArgument("give a device FILE or --device ID");
  }
  for (const auto& name : o.resources) {
    auto id = ResourceFromName(name);
    if (!id) {
      return Status::InvalidArgument("unknown resource '" + name + "' (" +
                                     ResourceNameList() + ")");
    }
    body.resources.push_back(*id);
  }
  if (body.resources.size() > wire::kMaxWithdrawIds) {
    return Status::InvalidArgument("too many --resource flags for one request");
  }

  Result<NodeAnswer> answer =
      SendWrite(wire::PacketKind::kWithdrawRequest, body, *settings, o.key);
  if (!answer) return answer.status();
  return ReportEntryResults(*answer, "withdrawn", o.json);
}

}  // namespace

void AddWithdrawCommand(CLI::App& app, const GlobalFlags& flags,
                        Status& outcome) {
  auto o = std::make_shared<WithdrawOptions>();
  CLI::App* cmd = app.add_subcommand(
      "withdraw",
      "Take a device's offers off sale: every offer, or those named with "
      "--resource.");
  cmd->add_option("FILE", o->file, "Device file (for its device id)");
  cmd->add_option("--device", o->device, "Device id, 32 hex digits");
  cmd->add_option("--resource", o->resources,
                  "Withdraw only this resource (repeatable)");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  AddKeyOptions(*cmd, o->key);
  cmd->callback([o, &flags, &outcome] { outcome = RunWithdraw(*o, flags); });
}

}  // namespace crsp::cli
