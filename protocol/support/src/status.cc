#include "crsp/support/status.h"

namespace crsp::support {

int ExitCodeOf(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk:
      return 0;
    case Status::Code::kIoError:
      return 1;
    case Status::Code::kCorruption:
      return 2;
    case Status::Code::kInvalidArgument:
      return 64;  // EX_USAGE
    case Status::Code::kRefused:
      return 65;  // EX_DATAERR
    case Status::Code::kUnavailable:
      return 69;  // EX_UNAVAILABLE
    case Status::Code::kIncomplete:
      return 75;  // EX_TEMPFAIL
  }
  return 1;
}

}  // namespace crsp::support
