// The wall clock as the platform counts it: whole seconds since the Unix
// epoch (offer validity, signed transaction ids, record expiry). Code that
// must be testable takes a clock as a parameter instead and uses this only
// as the default.
#ifndef CRSP_SUPPORT_CLOCK_H_
#define CRSP_SUPPORT_CLOCK_H_

#include <cstdint>

namespace crsp::support {

// Seconds since 1970-01-01T00:00:00Z (system_clock).
uint64_t UnixSeconds();

}  // namespace crsp::support

#endif  // CRSP_SUPPORT_CLOCK_H_
