// `crsp register [FILE]`: offers from a device file (or one resource from
// flags) to the nearest node; writes the device id back into the file on
// first register.
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
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

struct RegisterOptions {
  std::string file;  // device file; empty: the single-resource flags
  // Single resource from flags (used when `file` is empty).
  std::string device, kind = "other", currency, contact;
  std::string resource, price, unit, from = "now", until;
  uint32_t quantity = 0;
  KeyOptions key;
  bool json = false;
};

// The device of the single-resource flags, checked as a file's would be.
Result<DeviceFile> FromFlags(const RegisterOptions& o, uint64_t now) {
  if (o.resource.empty() || o.price.empty() || o.quantity == 0 ||
      o.until.empty() || o.currency.empty()) {
    return Status::InvalidArgument(
        "give a device FILE, or --resource, --price, --quantity, --until "
        "and --currency for a single resource");
  }
  DeviceSpec spec;
  spec.kind = o.kind;
  spec.currency = o.currency;
  spec.device = o.device;
  spec.contact = o.contact;
  DeviceSpec::Resource& r = spec.resources.emplace_back();
  r.type = o.resource;
  r.price = o.price;
  r.unit = o.unit;
  r.quantity = o.quantity;
  r.from = o.from;
  r.until = o.until;
  return BuildDevice(spec, now);
}

Status RunRegister(const RegisterOptions& o, const GlobalFlags& flags) {
  Result<Settings> settings = ResolveSettings(flags);
  if (!settings) return settings.status();
  const uint64_t now = support::UnixSeconds();
  if (!o.file.empty() && access(o.file.c_str(), R_OK) != 0) {
    return Status::IoError("cannot read " + o.file + ": " +
                           std::strerror(errno));
  }
  Result<DeviceFile> device =
      o.file.empty() ? FromFlags(o, now) : LoadDeviceFile(o.file, now);
  // A file that cannot be read is an IoError, anything wrong in it
  // InvalidArgument (docs/cli.md "Exit codes").
  if (!device) return device.status();

  const bool new_id = !device->device.has_value();
  if (new_id) {
    protocol::DeviceId id;
    if (gnutls_rnd(GNUTLS_RND_RANDOM, id.data(), id.size()) < 0) {
      return Status::IoError("the random generator failed");
    }
    device->device = id;
    device->request.set.device = id;
  }

  Result<NodeAnswer> answer = SendWrite(wire::PacketKind::kRegisterRequest,
                                        device->request, *settings, o.key);
  if (!answer) return answer.status();

  if (new_id) {
    if (!o.file.empty()) {
      Status written = WriteBackDevice(o.file, *device->device);
      if (!written.ok()) {
        Warn("could not write the device id back (" + written.message() +
             "); add device = \"" + support::ToHex(*device->device) + "\" to " +
             o.file);
      }
    } else if (!o.json) {
      std::cout << "new device id " << support::ToHex(*device->device)
                << " (pass --device to update or withdraw these offers)\n";
    }
  }
  return ReportEntryResults(*answer, "registered", o.json);
}

}  // namespace

void AddRegisterCommand(CLI::App& app, const GlobalFlags& flags,
                        Status& outcome) {
  auto o = std::make_shared<RegisterOptions>();
  CLI::App* cmd = app.add_subcommand(
      "register",
      "Offer a device's resources for sale, from a device FILE (TOML, see "
      "docs/cli.md) or one resource from flags. Prints each resource's "
      "status and replicas. Writes the new device id into FILE on first "
      "register.");
  cmd->add_option("FILE", o->file, "Device file (TOML)");
  cmd->add_option("--device", o->device,
                  "Device id, 32 hex digits (single resource; default: a "
                  "new random id)");
  cmd->add_option("--kind", o->kind,
                  "computer, printer, car, radio, other (default other)");
  cmd->add_option("--currency", o->currency, "ISO 4217 code, e.g. CNY");
  cmd->add_option("--contact", o->contact,
                  "[IPv6]:port buyers reach the device at (default: this "
                  "request's source)");
  cmd->add_option("--resource", o->resource, ResourceNameList());
  cmd->add_option("--price", o->price,
                  "Major units per billing unit, e.g. 0.10/page");
  cmd->add_option("--unit", o->unit,
                  "Billing unit when --price has none: use, hour, page, "
                  "gib-hour, km, day");
  cmd->add_option("--quantity", o->quantity, "Quantity available (>= 1)");
  cmd->add_option("--from", o->from,
                  "Valid from: ISO 8601, now, or +30m/+8h/+2d (default now)");
  cmd->add_option("--until", o->until, "Valid until (same forms)");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  AddKeyOptions(*cmd, o->key);
  cmd->callback([o, &flags, &outcome] { outcome = RunRegister(*o, flags); });
}

}  // namespace crsp::cli
