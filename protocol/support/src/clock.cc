#include "crsp/support/clock.h"

#include <chrono>

namespace crsp::support {

uint64_t UnixSeconds() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace crsp::support
