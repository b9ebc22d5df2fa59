// `crsp register [FILE]`: offers from a device file (or one resource from
// flags) to the nearest node; writes the device id back into the file on
// first register.
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "command_support.h"
#include "commands.h"
#include "device_file.h"
#include "exit_codes.h"
#include "hex.h"
#include "price.h"
#include "time_spec.h"

namespace crsp::cli {
namespace {

// A DeviceFile from the single-resource flags.
std::optional<DeviceFile> FromFlags(const RegisterOptions& o, uint64_t now,
                                    std::string* error) {
  if (o.resource.empty() || o.price.empty() || o.quantity == 0 ||
      o.until.empty() || o.currency.empty()) {
    *error =
        "give a device FILE, or --resource, --price, --quantity, --until "
        "and --currency for a single resource";
    return std::nullopt;
  }
  // The same checks as a file: build the TOML text and reuse its parser.
  auto quote = [](const std::string& s) {
    std::string q = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    return q + "\"";
  };
  std::string toml =
      "kind = " + quote(o.kind) + "\ncurrency = " + quote(o.currency) + "\n";
  if (!o.device.empty()) toml += "device = " + quote(o.device) + "\n";
  if (!o.contact.empty()) toml += "contact = " + quote(o.contact) + "\n";
  toml += "[[resource]]\ntype = " + quote(o.resource) +
          "\nprice = " + quote(o.price) +
          "\nquantity = " + std::to_string(o.quantity) +
          "\nfrom = " + quote(o.from) + "\nuntil = " + quote(o.until) + "\n";
  if (!o.unit.empty()) toml += "unit = " + quote(o.unit) + "\n";
  return ParseDeviceFile(toml, now, error);
}

}  // namespace

int RunRegister(const RegisterOptions& o, const GlobalFlags& flags) {
  std::string error;
  auto settings = ResolveSettings(flags, &error);
  if (!settings) return Fail(kExitUsage, error);
  uint64_t now = UnixNow();
  if (!o.file.empty() && access(o.file.c_str(), R_OK) != 0) {
    return Fail(kExitLocal,
                "cannot read " + o.file + ": " + std::strerror(errno));
  }
  auto device = o.file.empty() ? FromFlags(o, now, &error)
                               : LoadDeviceFile(o.file, now, &error);
  if (!device) return Fail(kExitUsage, error);

  bool new_id = !device->device.has_value();
  if (new_id) {
    protocol::DeviceId id;
    if (gnutls_rnd(GNUTLS_RND_RANDOM, id.data(), id.size()) < 0) {
      return Fail(kExitLocal, "the random generator failed");
    }
    device->device = id;
    device->request.set.device = id;
  }

  Signer signer = LoadSigner(o.key);
  if (signer.exit_code) return signer.exit_code;
  int exit_code = kExitOk;
  auto header = RequestHeader(wire::PacketKind::kRegisterRequest, *settings,
                              o.key, signer, &exit_code);
  if (!header) return exit_code;
  protocol::Packet request{*header, device->request};

  NodeClient client(settings->nodes, settings->policy);
  bool encode_failed = false;
  auto answer =
      client.Send(request, signer.key ? &*signer.key : nullptr, &encode_failed);
  if (encode_failed) return Fail(kExitLocal, "could not sign the request");
  if (!answer) return FailNoNode(client.order());

  if (new_id) {
    if (!o.file.empty()) {
      if (!WriteBackDevice(o.file, *device->device, &error)) {
        std::cerr << "crsp: warning: could not write the device id back ("
                  << error << "); add device = \"" << ToHex(*device->device)
                  << "\" to " << o.file << "\n";
      }
    } else if (!o.json) {
      std::cout << "new device id " << ToHex(*device->device)
                << " (pass --device to update or withdraw these offers)\n";
    }
  }
  return ReportEntryResults(*answer, "registered", o.json);
}

}  // namespace crsp::cli
