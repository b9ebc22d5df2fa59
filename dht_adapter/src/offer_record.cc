// The msgpack layout of an OfferRecord (docs/storage.md "Record layout"):
// one array of kFieldCount elements, the first being the format version.
// Decoding inspects msgpack objects by type and never converts, so that a
// wrong type is a refusal instead of an exception.
#include "crsp/dht_adapter/offer_record.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <msgpack.hpp>
#include <new>

#include "msgpack_bytes.h"

namespace crsp::dht {
namespace {

using internal::ByteSink;
using internal::PackBin;
using internal::ReadFixedBin;
using internal::ReadUint;

inline constexpr uint64_t kFormatVersion = 1;
inline constexpr uint32_t kFieldCount = 17;

// Field positions in the array.
enum Field : uint32_t {
  kFormat = 0,
  kDevice,
  kContact,
  kContactPort,
  kDeviceKind,
  kCurrency,
  kResource,
  kUnit,
  kFlags,
  kQuantity,
  kPrice,
  kValidFrom,
  kValidUntil,
  kVersion,
  kWithdrawn,
  kOwnerAddress,
  kSignedRequest,
};

bool ReadFields(const msgpack::object* f, OfferRecord& r) {
  protocol::Offer& o = r.offer;
  uint64_t format = 0;
  if (!ReadUint(f[kFormat], format) || format != kFormatVersion) return false;
  if (f[kWithdrawn].type != msgpack::type::BOOLEAN) return false;
  r.withdrawn = f[kWithdrawn].via.boolean;
  const msgpack::object& req = f[kSignedRequest];
  if (req.type != msgpack::type::BIN) return false;
  const auto* req_bytes = reinterpret_cast<const std::byte*>(req.via.bin.ptr);
  r.signed_request.assign(req_bytes, req_bytes + req.via.bin.size);
  return ReadFixedBin(f[kDevice], o.device) &&
         ReadFixedBin(f[kContact], o.contact) &&
         ReadUint(f[kContactPort], o.contact_port) &&
         ReadUint(f[kDeviceKind], o.device_kind) &&
         ReadUint(f[kCurrency], o.currency) &&
         ReadUint(f[kResource], o.resource) && ReadUint(f[kUnit], o.unit) &&
         ReadUint(f[kFlags], o.flags) && ReadUint(f[kQuantity], o.quantity) &&
         ReadUint(f[kPrice], o.price) &&
         ReadUint(f[kValidFrom], o.valid_from) &&
         ReadUint(f[kValidUntil], o.valid_until) &&
         ReadUint(f[kVersion], r.version) &&
         ReadFixedBin(f[kOwnerAddress], r.owner_address);
}

}  // namespace

std::vector<std::byte> EncodeRecord(const OfferRecord& record) {
  const protocol::Offer& o = record.offer;
  std::vector<std::byte> bytes;
  // The fixed fields take under 128 bytes.
  bytes.reserve(128 + record.signed_request.size());
  ByteSink sink{&bytes};
  msgpack::packer<ByteSink> pk(sink);
  pk.pack_array(kFieldCount);
  pk.pack(kFormatVersion);
  PackBin(pk, o.device);
  PackBin(pk, o.contact);
  pk.pack(o.contact_port);
  pk.pack(o.device_kind);
  pk.pack(o.currency);
  pk.pack(o.resource);
  pk.pack(o.unit);
  pk.pack(o.flags);
  pk.pack(o.quantity);
  pk.pack(o.price);
  pk.pack(o.valid_from);
  pk.pack(o.valid_until);
  pk.pack(record.version);
  pk.pack(record.withdrawn);
  PackBin(pk, record.owner_address);
  pk.pack_bin(static_cast<uint32_t>(record.signed_request.size()));
  pk.pack_bin_body(reinterpret_cast<const char*>(record.signed_request.data()),
                   record.signed_request.size());
  return bytes;
}

std::optional<OfferRecord> DecodeRecord(std::span<const std::byte> bytes) {
  if (bytes.empty() || bytes.size() > kMaxRecordSize) return std::nullopt;
  // Limits make msgpack refuse (throw) before allocating for absurd counts.
  const msgpack::unpack_limit limit(/*array=*/kFieldCount, /*map=*/0,
                                    /*str=*/0, /*bin=*/kMaxRecordSize,
                                    /*ext=*/0, /*depth=*/2);
  try {
    size_t offset = 0;
    msgpack::object_handle handle =
        msgpack::unpack(reinterpret_cast<const char*>(bytes.data()),
                        bytes.size(), offset, nullptr, nullptr, limit);
    if (offset != bytes.size()) return std::nullopt;  // trailing bytes
    const msgpack::object& root = handle.get();
    if (root.type != msgpack::type::ARRAY ||
        root.via.array.size != kFieldCount) {
      return std::nullopt;
    }
    OfferRecord record;
    if (!ReadFields(root.via.array.ptr, record)) return std::nullopt;
    return record;
  } catch (const msgpack::unpack_error&) {
    return std::nullopt;
  } catch (const msgpack::type_error&) {
    return std::nullopt;
  } catch (const std::bad_alloc&) {
    return std::nullopt;
  }
}

}  // namespace crsp::dht
