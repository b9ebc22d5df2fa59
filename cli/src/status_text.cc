#include "status_text.h"

namespace crsp::cli {

std::string_view StatusHint(wire::Status status) {
  switch (status) {
    case wire::Status::kOk:
      return "done";
    case wire::Status::kMalformed:
      return "the node could not parse the request; check that crsp and the "
             "node speak the same protocol version";
    case wire::Status::kBadCheck:
      return "the packet's check bits did not match on arrival; retry, or "
             "try another --check";
    case wire::Status::kUnsupportedVersion:
      return "the node speaks another protocol version; upgrade crsp or the "
             "node";
    case wire::Status::kUnsupportedCheck:
      return "the node does not accept this check type; pick another with "
             "--check";
    case wire::Status::kInvalidField:
      return "a field is out of range: check prices, quantities, and that "
             "the validity window ends in the future";
    case wire::Status::kNotAuthorized:
      return "this device id is bound to another key or source address, or "
             "the node requires signed requests (use --key)";
    case wire::Status::kRateLimited:
      return "too many requests or offers from this address; wait a minute "
             "and retry";
    case wire::Status::kStorageFailed:
      return "the platform could not confirm storing the offer; retry later "
             "or use another node";
    case wire::Status::kNotFound:
      return "there is no such offer to withdraw (already withdrawn or "
             "expired?)";
    case wire::Status::kTooLarge:
      return "more items than this node accepts in one packet; split the "
             "request";
    case wire::Status::kInternal:
      return "the node failed; retry later or use another node";
    case wire::Status::kIncomplete:
      return "the node could not read every matching offer in time: the "
             "offers shown are only part of the answer; ask again";
  }
  return "unknown status from the node; upgrade crsp";
}

std::string StatusLine(wire::Status status) {
  return std::string(wire::StatusName(status)) + ": " +
         std::string(StatusHint(status));
}

}  // namespace crsp::cli
