// Times on the command line and in device files: ISO 8601 or relative to
// now. The wire carries seconds since the Unix epoch (UTC).
#ifndef CRSP_CLI_TIME_SPEC_H_
#define CRSP_CLI_TIME_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crsp/support/status.h"

namespace crsp::cli {

// Accepts:
//   "now"; "+8h", "+30m", "+2d", "+90s", "+1w", "-1h" (relative to `now`);
//   "@1767225600" (epoch seconds);
//   "2026-01-01", "2026-01-01T08:00", "2026-01-01 08:00:00" (local time);
//   the same with "Z", "+08:00" or "+0800" (that offset).
// InvalidArgument otherwise.
support::Result<uint64_t> ParseTime(std::string_view text, uint64_t now);

// "2026-01-01 08:00" in the local time zone.
std::string FormatLocalTime(uint64_t epoch_seconds);

}  // namespace crsp::cli

#endif  // CRSP_CLI_TIME_SPEC_H_
