// docs/scaling.md "Roles", "Adverts": the rendezvous key, its values and
// the closeness rules. Decoding inspects msgpack objects by type and never
// converts (as offer_record.cc does), so it cannot throw past its catch.
#include "crsp/dht_adapter/aggregator_role.h"

#include <opendht/infohash.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <msgpack.hpp>
#include <set>

#include "msgpack_bytes.h"

namespace crsp::dht::aggregator {
namespace {

using internal::ByteSink;
using internal::PackBin;
using internal::ReadFixedBin;
using internal::ReadUint;

constexpr uint64_t kFormat = 1;
constexpr uint32_t kAdvertFields = 5;  // format, resource, node, port, since
constexpr uint32_t kDemandFields = 4;  // format, resource, "demand", suspects
constexpr char kDemandTag[] = "demand";
constexpr size_t kMaxValueSize = 160;

std::optional<RendezvousValue> ReadValue(const msgpack::object& root) {
  if (root.type != msgpack::type::ARRAY) return std::nullopt;
  const msgpack::object* f = root.via.array.ptr;
  const uint32_t n = root.via.array.size;
  uint64_t format = 0;
  uint16_t resource = 0;
  RendezvousValue value;
  if (n < 2 || !ReadUint(f[0], format) || format != kFormat ||
      !ReadUint(f[1], resource)) {
    return std::nullopt;
  }
  value.advert.resource = value.demand.resource = resource;
  if (n == kAdvertFields) {
    value.kind = RendezvousValue::Kind::kAdvert;
    if (!ReadFixedBin(f[2], value.advert.node) ||
        !ReadUint(f[3], value.advert.port) || value.advert.port == 0 ||
        !ReadUint(f[4], value.advert.warm_since)) {
      return std::nullopt;
    }
    return value;
  }
  if (n == kDemandFields) {
    value.kind = RendezvousValue::Kind::kDemand;
    const msgpack::object& tag = f[2];
    if (tag.type != msgpack::type::STR ||
        tag.via.str.size != sizeof kDemandTag - 1 ||
        std::memcmp(tag.via.str.ptr, kDemandTag, sizeof kDemandTag - 1) !=
            0) {
      return std::nullopt;
    }
    const msgpack::object& suspects = f[3];
    if (suspects.type != msgpack::type::ARRAY ||
        suspects.via.array.size > kAggregators) {
      return std::nullopt;
    }
    value.demand.suspects.resize(suspects.via.array.size);
    for (uint32_t i = 0; i < suspects.via.array.size; ++i) {
      if (!ReadFixedBin(suspects.via.array.ptr[i], value.demand.suspects[i])) {
        return std::nullopt;
      }
    }
    return value;
  }
  return std::nullopt;
}

}  // namespace

std::string RendezvousKeyName(uint16_t resource) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "crsp/1/0000/agg";
  for (int i = 0; i < 4; ++i) {
    name[7 + i] = kHex[(resource >> (12 - 4 * i)) & 0xF];
  }
  return name;
}

protocol::NodeId RendezvousKey(uint16_t resource) {
  const ::dht::InfoHash hash = ::dht::InfoHash::get(RendezvousKeyName(resource));
  protocol::NodeId key;
  std::memcpy(key.data(), hash.data(), key.size());
  return key;
}

std::vector<std::byte> EncodeAdvert(const Advert& advert) {
  std::vector<std::byte> bytes;
  bytes.reserve(48);
  ByteSink sink{&bytes};
  msgpack::packer<ByteSink> pk(sink);
  pk.pack_array(kAdvertFields);
  pk.pack_uint64(kFormat);
  pk.pack_uint16(advert.resource);
  PackBin(pk, advert.node);
  pk.pack_uint16(advert.port);
  pk.pack_uint64(advert.warm_since);
  return bytes;
}

std::vector<std::byte> EncodeDemand(const Demand& demand) {
  const size_t suspects = std::min(demand.suspects.size(), kAggregators);
  std::vector<std::byte> bytes;
  bytes.reserve(16 + 22 * suspects);
  ByteSink sink{&bytes};
  msgpack::packer<ByteSink> pk(sink);
  pk.pack_array(kDemandFields);
  pk.pack_uint64(kFormat);
  pk.pack_uint16(demand.resource);
  pk.pack_str(sizeof kDemandTag - 1);
  pk.pack_str_body(kDemandTag, sizeof kDemandTag - 1);
  pk.pack_array(static_cast<uint32_t>(suspects));
  for (size_t i = 0; i < suspects; ++i) {
    PackBin(pk, demand.suspects[i]);
  }
  return bytes;
}

std::optional<RendezvousValue> DecodeRendezvousValue(
    std::span<const std::byte> bytes) {
  if (bytes.empty() || bytes.size() > kMaxValueSize) return std::nullopt;
  const msgpack::unpack_limit limit(/*array=*/kAdvertFields, /*map=*/0,
                                    /*str=*/sizeof kDemandTag,
                                    /*bin=*/sizeof(protocol::NodeId),
                                    /*ext=*/0, /*depth=*/3);
  try {
    size_t offset = 0;
    msgpack::object_handle handle =
        msgpack::unpack(reinterpret_cast<const char*>(bytes.data()),
                        bytes.size(), offset, nullptr, nullptr, limit);
    if (offset != bytes.size()) return std::nullopt;  // trailing bytes
    return ReadValue(handle.get());
  } catch (const msgpack::unpack_error&) {
    return std::nullopt;
  } catch (const msgpack::type_error&) {
    return std::nullopt;
  } catch (const std::bad_alloc&) {
    return std::nullopt;
  }
}

bool Closer(const protocol::NodeId& key, const protocol::NodeId& a,
            const protocol::NodeId& b) {
  for (size_t i = 0; i < key.size(); ++i) {
    const uint8_t da = a[i] ^ key[i];
    const uint8_t db = b[i] ^ key[i];
    if (da != db) return da < db;
  }
  return false;
}

bool AmongClosest(const protocol::NodeId& key, const protocol::NodeId& self,
                  std::span<const protocol::NodeId> others, size_t k) {
  if (k == 0) return false;
  std::vector<protocol::NodeId> closer;
  for (const protocol::NodeId& other : others) {
    if (other == self || !Closer(key, other, self)) continue;
    if (std::find(closer.begin(), closer.end(), other) != closer.end()) {
      continue;
    }
    closer.push_back(other);
    if (closer.size() >= k) return false;
  }
  return true;
}

bool Elected(const protocol::NodeId& key, const protocol::NodeId& self,
             std::span<const protocol::NodeId> searched,
             std::span<const protocol::NodeId> suspects, bool has_peers) {
  if (searched.empty() && has_peers) return false;
  std::vector<protocol::NodeId> others;
  for (const protocol::NodeId& id : searched) {
    if (std::find(suspects.begin(), suspects.end(), id) == suspects.end()) {
      others.push_back(id);
    }
  }
  return AmongClosest(key, self, others);
}

bool DemandDue(std::optional<std::chrono::seconds> since_last,
               bool names_suspects) {
  return names_suspects || !since_last || *since_last >= kDemandInterval;
}

std::vector<ForwardTarget> UsableAdverts(
    const protocol::NodeId& rendezvous_key, uint16_t resource,
    std::span<const Advert> adverts, std::span<const SearchNode> searched) {
  // Per node id: the newest advert of this resource.
  std::map<protocol::NodeId, const Advert*> newest;
  for (const Advert& advert : adverts) {
    if (advert.resource != resource || advert.port == 0) continue;
    const Advert*& kept = newest[advert.node];
    if (kept == nullptr || advert.warm_since > kept->warm_since) {
      kept = &advert;
    }
  }
  std::vector<ForwardTarget> targets;
  for (const auto& entry : newest) {
    const protocol::NodeId& node = entry.first;
    auto met = std::find_if(searched.begin(), searched.end(),
                            [&](const SearchNode& s) {
                              return s.id == node && s.answering;
                            });
    if (met == searched.end()) continue;
    targets.push_back({node, met->address, entry.second->port,
                       entry.second->warm_since != kWarming});
  }
  std::sort(targets.begin(), targets.end(),
            [&](const ForwardTarget& a, const ForwardTarget& b) {
              return Closer(rendezvous_key, a.node, b.node);
            });
  return targets;
}

std::vector<Advert> AdvertsIn(std::span<const RendezvousValue> values) {
  std::vector<Advert> adverts;
  for (const RendezvousValue& value : values) {
    if (value.kind == RendezvousValue::Kind::kAdvert) {
      adverts.push_back(value.advert);
    }
  }
  return adverts;
}

size_t Advertisers(uint16_t resource, std::span<const Advert> adverts) {
  std::set<protocol::NodeId> nodes;
  for (const Advert& advert : adverts) {
    if (advert.resource == resource && advert.port != 0) {
      nodes.insert(advert.node);
    }
  }
  return nodes.size();
}

bool Resigns(const protocol::NodeId& key, const protocol::NodeId& self,
             std::span<const ForwardTarget> serving, size_t k) {
  std::vector<protocol::NodeId> ids;
  for (const ForwardTarget& target : serving) {
    if (target.warm) ids.push_back(target.node);
  }
  return !AmongClosest(key, self, ids, k);
}

}  // namespace crsp::dht::aggregator
