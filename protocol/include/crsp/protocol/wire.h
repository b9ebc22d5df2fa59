// Every wire constant of CRSP protocol v1 (../shared/PROTOCOL.md), in one
// place. Nothing else in the project spells a wire number: code that needs a
// size, a code or a default port takes it from here. docs/protocol.md maps
// each section of the spec to the code that implements it.
#ifndef CRSP_PROTOCOL_WIRE_H_
#define CRSP_PROTOCOL_WIRE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace crsp::wire {

// --- Transport -------------------------------------------------------------

inline constexpr uint16_t kVersion = 1;
inline constexpr uint16_t kDefaultEdgePort = 7400;
inline constexpr uint16_t kDefaultDhtPort = 4222;
// Largest datagram a node accepts (UDP over IPv4 payload limit).
inline constexpr size_t kMaxDatagram = 65507;
// Answers never exceed this: IPv6 minimum MTU 1280 less IPv6 and UDP headers.
inline constexpr size_t kMaxAnswer = 1232;

// --- Header ----------------------------------------------------------------

inline constexpr size_t kHeaderSize = 16;
// Bytes needed to read the transaction id (offset 8, 4 bytes); a shorter
// datagram gets no answer.
inline constexpr size_t kTxidReadable = 12;
inline constexpr size_t kOffVersion = 0;
inline constexpr size_t kOffProtocol = 2;
inline constexpr size_t kOffType = 3;
inline constexpr size_t kOffHeaderLength = 4;
inline constexpr size_t kOffTotalLength = 6;
inline constexpr size_t kOffTxid = 8;
inline constexpr size_t kOffCheckType = 12;
inline constexpr size_t kOffStatus = 13;
inline constexpr size_t kOffItemCount = 14;
inline constexpr uint8_t kCheckTypeMask = 0x0F;

enum class Protocol : uint8_t {
  kControl = 0x00,
  kRegistration = 0x01,
  kInquiry = 0x02,
};

// Packet type numbers within their protocol. Requests are odd, answers are
// the request's number plus one.
inline constexpr uint8_t kTypePingRequest = 0x01;
inline constexpr uint8_t kTypePingAnswer = 0x02;
inline constexpr uint8_t kTypeRegisterRequest = 0x01;
inline constexpr uint8_t kTypeRegisterAnswer = 0x02;
inline constexpr uint8_t kTypeWithdrawRequest = 0x03;
inline constexpr uint8_t kTypeWithdrawAnswer = 0x04;
inline constexpr uint8_t kTypeQueryRequest = 0x01;
inline constexpr uint8_t kTypeQueryAnswer = 0x02;
// Control types 0x40..0x7F are node-to-node messages, the implementation's
// own range (PROTOCOL.md 1.1): clients never send them, and a node takes
// them only from its DHT peers. CRSP uses the first four (docs/scaling.md
// "Node-to-node messages", peer_codec.h); the rest stay unknown.
inline constexpr uint8_t kFirstPeerType = 0x40;
inline constexpr uint8_t kLastPeerType = 0x7F;
inline constexpr uint8_t kTypeForwardedQuery = 0x40;
inline constexpr uint8_t kTypeForwardedAnswer = 0x41;
inline constexpr uint8_t kTypeRecordPush = 0x42;
inline constexpr uint8_t kTypePushAck = 0x43;
// A record push carries 1..kMaxPushRecords records of 1..kMaxPushRecordSize
// bytes each (the DHT record's own bound, docs/storage.md), each after a
// 2-byte length. Several records fit kMaxAnswer; one may exceed it.
inline constexpr uint16_t kMaxPushRecords = 64;
inline constexpr size_t kMaxPushRecordSize = 4096;
inline constexpr size_t kPushRecordLengthSize = 2;
// Whether (protocol, type) is in that range. Inline: every decode asks it.
inline constexpr bool IsPeerType(uint8_t protocol, uint8_t type) {
  return protocol == static_cast<uint8_t>(Protocol::kControl) &&
         type >= kFirstPeerType && type <= kLastPeerType;
}

// The eight packets of v1, independent of their (protocol, type) encoding.
enum class PacketKind : uint8_t {
  kPingRequest,
  kPingAnswer,
  kRegisterRequest,
  kRegisterAnswer,
  kWithdrawRequest,
  kWithdrawAnswer,
  kQueryRequest,
  kQueryAnswer,
};

// --- Check trailer -----------------------------------------------------------

enum class CheckType : uint8_t {
  kNone = 0,
  kParity = 1,
  kMd5 = 2,
  kSum = 3,
  kBcc = 4,
  kCrc32 = 5,
  kLrc = 6,
  kEd25519 = 7,
};
inline constexpr uint8_t kMaxKnownCheckType = 7;

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;
inline constexpr size_t kEd25519SeedSize = 32;

// Trailer bytes for each known check type, indexed by its number.
inline constexpr std::array<size_t, 8> kTrailerSize = {
    0, 1, 16, 2, 1, 4, 1, kEd25519PublicKeySize + kEd25519SignatureSize};

// --- Status codes ------------------------------------------------------------

enum class Status : uint8_t {
  kOk = 0,
  kMalformed = 1,
  kBadCheck = 2,
  kUnsupportedVersion = 3,
  kUnsupportedCheck = 4,
  kInvalidField = 5,
  kNotAuthorized = 6,
  kRateLimited = 7,
  kStorageFailed = 8,
  kNotFound = 9,
  kTooLarge = 10,
  kInternal = 11,
  // Query answers only (PROTOCOL.md revision 1.1): the node could not read
  // every matching offer, so the body is what it read and `total` counts
  // only those. Never sent where the answer is exact.
  kIncomplete = 12,
};
inline constexpr uint8_t kMaxKnownStatus = 12;

// --- Registration protocol ---------------------------------------------------

inline constexpr size_t kDeviceIdSize = 16;
inline constexpr size_t kIpv6Size = 16;
inline constexpr size_t kResourceSetSize = 40;
inline constexpr size_t kResourceEntrySize = 32;
// Fields of a resource entry (flags at 3 and bytes 12-15 reserved).
inline constexpr size_t kOffEntryResource = 0;
inline constexpr size_t kOffEntryUnit = 2;
inline constexpr size_t kOffEntryQuantity = 4;
inline constexpr size_t kOffEntryPrice = 8;
inline constexpr size_t kOffEntryValidFrom = 16;
inline constexpr size_t kOffEntryValidUntil = 24;
inline constexpr size_t kEntryResultSize = 8;
inline constexpr size_t kResourceIdSize = 2;
inline constexpr uint16_t kMinRegisterEntries = 1;
inline constexpr uint16_t kMaxRegisterEntries = 64;
// Withdraw: 0 ids means every offer of the device. More than this many ids
// is TOO_LARGE (a decision of ours, docs/protocol.md).
inline constexpr uint16_t kMaxWithdrawIds = 64;

enum class DeviceKind : uint16_t {
  kComputer = 1,
  kPrinter = 2,
  kCar = 3,
  kRadio = 4,
  kOther = 0xFFFF,
};

enum class BillingUnit : uint8_t {
  kPerUse = 0,
  kPerHour = 1,
  kPerPage = 2,
  kPerGibHour = 3,
  kPerKm = 4,
  kPerDay = 5,
};
inline constexpr uint8_t kMaxBillingUnit = 5;
// In a query entry: any billing unit.
inline constexpr uint8_t kAnyBillingUnit = 0xFF;

// --- Inquiry protocol --------------------------------------------------------

inline constexpr size_t kQueryDescriptorSize = 24;
inline constexpr size_t kQueryEntrySize = 12;
inline constexpr size_t kAnswerDescriptorSize = 8;
inline constexpr size_t kOfferSize = 72;
// Fields of an offer (bytes 42-43 and 52-55 reserved).
inline constexpr size_t kOffOfferDevice = 0;
inline constexpr size_t kOffOfferContact = 16;
inline constexpr size_t kOffOfferContactPort = 32;
inline constexpr size_t kOffOfferDeviceKind = 34;
inline constexpr size_t kOffOfferCurrency = 36;
inline constexpr size_t kOffOfferResource = 38;
inline constexpr size_t kOffOfferUnit = 40;
inline constexpr size_t kOffOfferFlags = 41;
inline constexpr size_t kOffOfferQuantity = 44;
inline constexpr size_t kOffOfferPrice = 48;
inline constexpr size_t kOffOfferValidFrom = 56;
inline constexpr size_t kOffOfferValidUntil = 64;
inline constexpr uint16_t kMinQueryEntries = 1;
inline constexpr uint16_t kMaxQueryEntries = 16;
inline constexpr uint32_t kAnyPrice = 0xFFFFFFFF;
inline constexpr uint8_t kOfferFlagSigned = 0x01;
// Offers that fit one answer: (1232 - 16 header - 8 descriptor - 96 largest
// trailer) / 72.
inline constexpr size_t kMaxOffersPerAnswer =
    (kMaxAnswer - kHeaderSize - kAnswerDescriptorSize -
     kTrailerSize[static_cast<size_t>(CheckType::kEd25519)]) /
    kOfferSize;

// --- Control protocol --------------------------------------------------------

inline constexpr size_t kNodeIdSize = 20;
inline constexpr size_t kPingAnswerBodySize = 64;

// --- Resource ids ------------------------------------------------------------

inline constexpr uint16_t kResourceCpu = 0x0001;
inline constexpr uint16_t kResourceVideo = 0x0002;
inline constexpr uint16_t kResourcePrint = 0x0003;
inline constexpr uint16_t kResourceMemory = 0x0004;
inline constexpr uint16_t kResourceSoftware = 0x0005;
inline constexpr uint16_t kResourceCopy = 0x0006;
inline constexpr uint16_t kResourceCarRental = 0x0007;
inline constexpr uint16_t kResourceTaxiRide = 0x0008;
inline constexpr uint16_t kResourceSightseeing = 0x0009;
inline constexpr uint16_t kResourceBroadcast = 0x000A;
inline constexpr uint16_t kResourceStorage = 0x000B;
inline constexpr uint16_t kResourceBandwidth = 0x000C;
inline constexpr uint16_t kLastStandardResource = 0x000C;
inline constexpr uint16_t kFirstPrivateResource = 0x8000;

// A resource id is valid when it is in the spec's table or private use.
// 0x0000 and 0x000D..0x7FFF are INVALID_FIELD in v1 (docs/protocol.md).
constexpr bool IsValidResourceId(uint16_t id) {
  return (id >= kResourceCpu && id <= kLastStandardResource) ||
         id >= kFirstPrivateResource;
}

constexpr bool IsValidDeviceKind(uint16_t kind) {
  return (kind >= 1 && kind <= 4) || kind == 0xFFFF;
}

// The spec's status name, e.g. "NOT_AUTHORIZED"; "UNKNOWN" past 12.
std::string_view StatusName(Status status);

// The packet kind's name, as crsp decode prints it and the node logs it:
// "register_request", "query_answer", ...; "" for a value outside the enum.
std::string_view PacketKindName(PacketKind kind);

}  // namespace crsp::wire

#endif  // CRSP_PROTOCOL_WIRE_H_
