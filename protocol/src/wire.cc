#include "crsp/protocol/wire.h"

namespace crsp::wire {

std::string_view StatusName(Status status) {
  switch (status) {
    case Status::kOk:
      return "OK";
    case Status::kMalformed:
      return "MALFORMED";
    case Status::kBadCheck:
      return "BAD_CHECK";
    case Status::kUnsupportedVersion:
      return "UNSUPPORTED_VERSION";
    case Status::kUnsupportedCheck:
      return "UNSUPPORTED_CHECK";
    case Status::kInvalidField:
      return "INVALID_FIELD";
    case Status::kNotAuthorized:
      return "NOT_AUTHORIZED";
    case Status::kRateLimited:
      return "RATE_LIMITED";
    case Status::kStorageFailed:
      return "STORAGE_FAILED";
    case Status::kNotFound:
      return "NOT_FOUND";
    case Status::kTooLarge:
      return "TOO_LARGE";
    case Status::kInternal:
      return "INTERNAL";
    case Status::kIncomplete:
      return "INCOMPLETE";
  }
  return "UNKNOWN";
}

std::string_view PacketKindName(PacketKind kind) {
  switch (kind) {
    case PacketKind::kPingRequest:
      return "ping_request";
    case PacketKind::kPingAnswer:
      return "ping_answer";
    case PacketKind::kRegisterRequest:
      return "register_request";
    case PacketKind::kRegisterAnswer:
      return "register_answer";
    case PacketKind::kWithdrawRequest:
      return "withdraw_request";
    case PacketKind::kWithdrawAnswer:
      return "withdraw_answer";
    case PacketKind::kQueryRequest:
      return "query_request";
    case PacketKind::kQueryAnswer:
      return "query_answer";
  }
  return "";
}

}  // namespace crsp::wire
