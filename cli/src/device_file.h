// The seller's device file (TOML), as docs/cli.md describes it:
//
//   kind = "printer"            # computer, printer, car, radio, other
//   currency = "CNY"            # ISO 4217 code
//   device = "..."              # 32 hex digits; written back when absent
//   contact = "[2001:db8::5]:9000"   # default: the request's source
//   [[resource]]
//   type = "print"
//   price = "0.10/page"
//   quantity = 500
//   from = "+0h"
//   until = "+8h"
//
// Loading turns it into a register request body; relative times resolve
// against the `now` given.
#ifndef CRSP_CLI_DEVICE_FILE_H_
#define CRSP_CLI_DEVICE_FILE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crsp/protocol/packets.h"
#include "crsp/support/status.h"
#include "names.h"

namespace crsp::cli {

struct DeviceFile {
  std::optional<protocol::DeviceId> device;  // absent until first register
  uint16_t kind = 0;
  Currency currency{};
  // The set descriptor (device id zero when absent) and one entry per
  // [[resource]].
  protocol::RegisterRequest request;
};

// A device described by text, field by field, as the device file and
// register's flags give it; BuildDevice checks and converts it.
struct DeviceSpec {
  std::string kind = "other";
  std::string currency;
  std::string device;   // empty: none yet
  std::string contact;  // empty: the request's source
  struct Resource {
    std::string context;  // put before its errors, e.g. "line 7: [[resource]] "
    std::string type, price, unit, from = "now", until;
    std::optional<int64_t> quantity;  // absent: missing
  };
  std::vector<Resource> resources;
};

// The register request body of `spec`; relative times resolve against
// `now`. InvalidArgument naming the field otherwise.
support::Result<DeviceFile> BuildDevice(const DeviceSpec& spec, uint64_t now);

// Parses TOML text. InvalidArgument naming the line or key otherwise.
support::Result<DeviceFile> ParseDeviceFile(std::string_view toml_text,
                                            uint64_t now);
// The same for the file at `path` (errors start with the path); IoError
// when it cannot be read.
support::Result<DeviceFile> LoadDeviceFile(const std::string& path,
                                           uint64_t now);

// `text` with a line `device = "<hex>"` added among the top-level keys
// (after a commented "# device = " line if there is one, else before the
// first table), every other line unchanged.
std::string InsertDeviceLine(std::string_view text,
                             const protocol::DeviceId& device);
// Rewrites the file at `path` that way, atomically (support/file.h).
support::Status WriteBackDevice(const std::string& path,
                                const protocol::DeviceId& device);

}  // namespace crsp::cli

#endif  // CRSP_CLI_DEVICE_FILE_H_
