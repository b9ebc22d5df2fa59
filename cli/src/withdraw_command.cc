// `crsp withdraw FILE|--device ID [--resource NAME]...`: takes offers off
// sale before their validity ends.
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "command_support.h"
#include "commands.h"
#include "device_file.h"
#include "exit_codes.h"
#include "hex.h"
#include "names.h"
#include "time_spec.h"

namespace crsp::cli {

int RunWithdraw(const WithdrawOptions& o, const GlobalFlags& flags) {
  std::string error;
  auto settings = ResolveSettings(flags, &error);
  if (!settings) return Fail(kExitUsage, error);

  protocol::WithdrawRequest body;
  if (!o.device.empty()) {
    auto id = ParseHexArray<wire::kDeviceIdSize>(o.device);
    if (!id) return Fail(kExitUsage, "--device must be 32 hex digits");
    body.device = *id;
  } else if (!o.file.empty()) {
    if (access(o.file.c_str(), R_OK) != 0) {
      return Fail(kExitLocal,
                  "cannot read " + o.file + ": " + std::strerror(errno));
    }
    auto file = LoadDeviceFile(o.file, UnixNow(), &error);
    if (!file) return Fail(kExitUsage, error);
    if (!file->device) {
      return Fail(kExitUsage, o.file +
                                  " has no device id yet: it was never "
                                  "registered, so there is nothing to "
                                  "withdraw");
    }
    body.device = *file->device;
  } else {
    return Fail(kExitUsage, "give a device FILE or --device ID");
  }
  for (const auto& name : o.resources) {
    auto id = ResourceFromName(name);
    if (!id) {
      return Fail(kExitUsage, "unknown resource '" + name + "' (" +
                                  ResourceNameList() + ")");
    }
    body.resources.push_back(*id);
  }
  if (body.resources.size() > wire::kMaxWithdrawIds) {
    return Fail(kExitUsage, "too many --resource flags for one request");
  }

  Signer signer = LoadSigner(o.key);
  if (signer.exit_code) return signer.exit_code;
  int exit_code = kExitOk;
  auto header = RequestHeader(wire::PacketKind::kWithdrawRequest, *settings,
                              o.key, signer, &exit_code);
  if (!header) return exit_code;

  NodeClient client(settings->nodes, settings->policy);
  bool encode_failed = false;
  auto answer =
      client.Send(protocol::Packet{*header, body},
                  signer.key ? &*signer.key : nullptr, &encode_failed);
  if (encode_failed) return Fail(kExitLocal, "could not sign the request");
  if (!answer) return FailNoNode(client.order());
  return ReportEntryResults(*answer, "withdrawn", o.json);
}

}  // namespace crsp::cli
