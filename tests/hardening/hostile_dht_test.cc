// A hostile DHT peer (a raw OpenDHT node with its own identity) joined to a
// cluster of real crsp-nodes puts garbage, oversized, expired and
// wrongly-signed values, forged copies of real offers, and edits of the real
// offers' own values under the offer keys. Every node keeps serving exactly the
// real offers, with their real fields, whether it learns the values by Watch
// (warm before the attack) or by Fetch (started after it), and keeps answering.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>
#include <variant>

#include "crsp/dht_adapter/keys.h"
#include "crsp/dht_adapter/offer_record.h"
#include "hostile_peer.h"
#include "node_harness.h"

namespace crsp::testing {
namespace {

using namespace std::chrono_literals;
using dht::OfferRecord;
using protocol::Ed25519Key;
using protocol::Offer;
using wire::Status;
using Signing = HostilePeer::Signing;

// crsp.offer.1h (docs/storage.md "Value types"): the type of an offer that
// is valid for at most an hour, like every offer here.
constexpr uint16_t kOfferType1h = 0x4301;

const protocol::Ipv6Address kRealContact = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                            0,    0,    0,    0,    0, 0, 0, 1};
const protocol::Ipv6Address kAttackerContact = {
    0x20, 0x01, 0x0d, 0xb8, 0x66, 0x66, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x66};

// A register whose contact is explicit, so that the signature covers it.
protocol::Packet RegisterWithContact(const protocol::DeviceId& device,
                                     const protocol::ResourceEntry& entry,
                                     uint32_t txid,
                                     const protocol::Ipv6Address& contact,
                                     wire::CheckType check) {
  protocol::Packet p = Register(device, {entry}, txid, check);
  auto& body = std::get<protocol::RegisterRequest>(p.body);
  body.set.contact = contact;
  body.set.contact_port = 7000;
  return p;
}

// The record a node would store for a signed register of one entry.
OfferRecord SignedRecordOf(const protocol::Packet& request,
                           const Ed25519Key& key) {
  const auto& body = std::get<protocol::RegisterRequest>(request.body);
  const auto& e = body.entries.at(0);
  OfferRecord r;
  r.offer.device = body.set.device;
  r.offer.contact = body.set.contact;
  r.offer.contact_port = body.set.contact_port;
  r.offer.device_kind = body.set.device_kind;
  r.offer.currency = body.set.currency;
  r.offer.resource = e.resource;
  r.offer.unit = e.unit;
  r.offer.quantity = e.quantity;
  r.offer.price = e.price;
  r.offer.valid_from = e.valid_from;
  r.offer.valid_until = e.valid_until;
  r.version = request.header.txid;
  r.signed_request = protocol::Encode(request, &key);
  return r;
}

OfferRecord UnsignedRecord(uint8_t device, uint32_t price, uint64_t until) {
  OfferRecord r;
  r.offer.device = Device(device);
  r.offer.contact = kAttackerContact;
  r.offer.contact_port = 6666;
  r.offer.device_kind = 1;
  r.offer.currency = 156;
  r.offer.resource = wire::kResourceCpu;
  r.offer.unit = static_cast<uint8_t>(wire::BillingUnit::kPerHour);
  r.offer.quantity = 64;
  r.offer.price = price;
  r.offer.valid_from = support::UnixSeconds() - 60;
  r.offer.valid_until = until;
  r.version = support::UnixSeconds() * 1000;
  r.owner_address = kAttackerContact;
  return r;
}

std::vector<std::byte> RandomBytes(size_t n) {
  std::mt19937 random(static_cast<uint32_t>(n));
  std::vector<std::byte> out(n);
  for (std::byte& b : out) b = static_cast<std::byte>(random());
  return out;
}

// One page of CPU offers up to 1,000 (buckets p00..p06).
std::optional<std::vector<Offer>> QueryCpu(UdpClient& client) {
  protocol::QueryEntry e;
  e.resource = wire::kResourceCpu;
  e.max_price = 1000;
  auto answer = Ask(client, Query({e}, 4242));
  if (!answer || answer->packet.header.status != Status::kOk) {
    return std::nullopt;
  }
  const auto* body = std::get_if<protocol::QueryAnswer>(&answer->packet.body);
  if (body == nullptr) return std::nullopt;
  return body->offers;
}

// Polls QueryCpu until it returns at least `n` offers (bounded).
std::vector<Offer> WaitForOffers(UdpClient& client, size_t n,
                                 std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  std::vector<Offer> last;
  while (std::chrono::steady_clock::now() < end) {
    if (auto offers = QueryCpu(client)) {
      last = *offers;
      if (last.size() >= n) break;
    }
    std::this_thread::sleep_for(200ms);
  }
  return last;
}

bool WaitForDhtPeers(UdpClient& client, uint32_t peers,
                     std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    auto answer = Ask(client, Ping(1));
    if (answer) {
      const auto* body =
          std::get_if<protocol::PingAnswer>(&answer->packet.body);
      if (body != nullptr && body->peers >= peers) return true;
    }
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

// The record of `device` stored under `key`, and (when `value_id` is given)
// the id of the value that holds it: the accepting node's.
std::optional<OfferRecord> FindRecord(HostilePeer& peer, const std::string& key,
                                      const protocol::DeviceId& device,
                                      uint64_t* value_id = nullptr) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    for (const HostilePeer::Stored& value : peer.Get(key)) {
      auto record = dht::DecodeRecord(value.data);
      if (record && record->offer.device == device) {
        if (value_id != nullptr) *value_id = value.id;
        return record;
      }
    }
    std::this_thread::sleep_for(250ms);
  }
  return std::nullopt;
}

class HostileDhtPeer : public ::testing::Test {
 protected:
  std::unique_ptr<NodeProcess> Start(const std::string& name,
                                     std::vector<std::string> bootstrap) {
    return StartNode(dir_.path() + "/" + name, std::move(bootstrap));
  }

  TempDir dir_;
};

TEST_F(HostileDhtPeer, NodesServeOnlyTheRealOffersAndStayUp) {
  auto a = Start("a", {});
  ASSERT_NE(a, nullptr);
  auto b = Start("b", {a->dht_endpoint()});
  ASSERT_NE(b, nullptr);
  UdpClient at_a(a->edge_port()), at_b(b->edge_port());
  ASSERT_TRUE(WaitForDhtPeers(at_b, 1, 15s)) << b->Log();

  // The real offers: one signed (explicit contact), one unsigned.
  auto owner = Ed25519Key::Generate();
  ASSERT_TRUE(owner);
  const auto signed_device = Device(31), unsigned_device = Device(32);
  const auto signed_entry = Entry(wire::kResourceCpu, 500);
  const auto unsigned_entry = Entry(wire::kResourceCpu, 700);
  const auto real_request =
      RegisterWithContact(signed_device, signed_entry, 1000, kRealContact,
                          wire::CheckType::kEd25519);
  auto reg = Ask(at_a, real_request, &*owner);
  ASSERT_TRUE(reg);
  ASSERT_EQ(reg->packet.header.status, Status::kOk) << a->Log();
  reg = Ask(at_a, Register(unsigned_device, {unsigned_entry}, 1));
  ASSERT_TRUE(reg);
  ASSERT_EQ(reg->packet.header.status, Status::kOk) << a->Log();
  // B is warm (watching CPU up to bucket p06) before the attack.
  ASSERT_EQ(WaitForOffers(at_b, 2, 10s).size(), 2u) << b->Log();

  HostilePeer hostile(a->dht_endpoint());
  ASSERT_TRUE(hostile.WaitForPeers(2, 15s));
  const OfferRecord real_signed = SignedRecordOf(real_request, *owner);
  const std::string signed_key = dht::KeyFor(real_signed.offer);
  Offer unsigned_offer = real_signed.offer;
  unsigned_offer.device = unsigned_device;
  unsigned_offer.price = unsigned_entry.price;
  const std::string unsigned_key = dht::KeyFor(unsigned_offer);
  // Copies of the real values, as the DHT serves them to anyone.
  uint64_t signed_value_id = 0;
  auto stored_signed =
      FindRecord(hostile, signed_key, signed_device, &signed_value_id);
  ASSERT_TRUE(stored_signed);
  OfferRecord as_signed = real_signed;
  as_signed.offer.flags = stored_signed->offer.flags;  // never trusted
  EXPECT_EQ(*stored_signed, as_signed);
  auto stored_unsigned = FindRecord(hostile, unsigned_key, unsigned_device);
  ASSERT_TRUE(stored_unsigned);

  // The cheapest key of the signed device: read first by every query.
  const std::string cheap_key =
      dht::KeyName(wire::kResourceCpu, 0, dht::ShardOf(signed_device));
  auto put = [&](const std::string& key, std::vector<std::byte> data,
                 Signing signing) {
    EXPECT_TRUE(hostile.Put(key, kOfferType1h, std::move(data), signing))
        << "put to " << key << " never came back";
  };
  // Garbage and oversized values.
  put(signed_key, std::vector<std::byte>(40, std::byte{0xC1}),
      Signing::kSigned);
  put(signed_key, RandomBytes(5000), Signing::kSigned);
  put(cheap_key, RandomBytes(60000), Signing::kSigned);
  // Well-formed new offers that must not be served: expired; a DHT
  // signature that does not verify. (Unsigned at the DHT level is how crsp
  // nodes put: docs/security.md says what that leaves to DHT peers.)
  put(dht::KeyFor(UnsignedRecord(33, 100, support::UnixSeconds() - 5).offer),
      dht::EncodeRecord(UnsignedRecord(33, 100, support::UnixSeconds() - 5)),
      Signing::kUnsigned);
  const OfferRecord fresh2 =
      UnsignedRecord(35, 100, support::UnixSeconds() + 3000);
  put(dht::KeyFor(fresh2.offer), dht::EncodeRecord(fresh2),
      Signing::kBadSignature);
  // The real signed offer with its price or contact changed (the seller's
  // signed request no longer matches), and with its Ed25519 signature
  // corrupted, each under a higher version.
  OfferRecord cheaper = real_signed;
  cheaper.offer.price = 1;
  put(signed_key, dht::EncodeRecord(cheaper), Signing::kSigned);
  put(cheap_key, dht::EncodeRecord(cheaper), Signing::kSigned);
  OfferRecord redirected = real_signed;
  redirected.offer.contact = kAttackerContact;
  put(signed_key, dht::EncodeRecord(redirected), Signing::kSigned);
  put(cheap_key, dht::EncodeRecord(redirected), Signing::kSigned);
  OfferRecord bad_sig = real_signed;
  bad_sig.signed_request.back() ^= std::byte{0x01};
  put(signed_key, dht::EncodeRecord(bad_sig), Signing::kSigned);
  // The real offer re-signed by another Ed25519 key, cheaper, redirected and
  // under a higher txid; and another key's tombstone for it.
  auto thief = Ed25519Key::Generate();
  ASSERT_TRUE(thief);
  protocol::ResourceEntry thief_entry = signed_entry;
  thief_entry.price = 1;
  const OfferRecord stolen = SignedRecordOf(
      RegisterWithContact(signed_device, thief_entry, 5000, kAttackerContact,
                          wire::CheckType::kEd25519),
      *thief);
  ASSERT_TRUE(dht::VerifyRecordSignature(stolen));
  put(signed_key, dht::EncodeRecord(stolen), Signing::kSigned);
  put(cheap_key, dht::EncodeRecord(stolen), Signing::kSigned);
  OfferRecord stolen_tombstone = real_signed;
  stolen_tombstone.withdrawn = true;
  stolen_tombstone.version = 6000;
  stolen_tombstone.signed_request = protocol::Encode(
      Withdraw(signed_device, {}, 6000, wire::CheckType::kEd25519), &*thief);
  ASSERT_TRUE(dht::VerifyRecordSignature(stolen_tombstone));
  put(signed_key, dht::EncodeRecord(stolen_tombstone), Signing::kSigned);
  // The signed device claimed by an unsigned record under a higher version.
  OfferRecord unsigned_claim =
      UnsignedRecord(31, 1, support::UnixSeconds() + 3000);
  unsigned_claim.offer.device = signed_device;
  unsigned_claim.version = 9000;
  put(signed_key, dht::EncodeRecord(unsigned_claim), Signing::kUnsigned);
  // Edits of the real signed offer's own value (the accepting node's value
  // id): the thief's version, the unsigned claim, and the real offer with an
  // older version. Nodes that store it must keep the real one (edit policy),
  // or a node that learns the device by Fetch would never see it.
  auto edit = [&](const OfferRecord& record) {
    EXPECT_TRUE(hostile.Put(signed_key, kOfferType1h, dht::EncodeRecord(record),
                            Signing::kUnsigned, signed_value_id))
        << "edit never came back";
  };
  edit(stolen);
  edit(unsigned_claim);
  OfferRecord older = SignedRecordOf(
      RegisterWithContact(signed_device, Entry(wire::kResourceCpu, 400), 900,
                          kRealContact, wire::CheckType::kEd25519),
      *owner);
  edit(older);
  // The stored copies under the real value id are still the real version.
  // (The peer's own local copy is its last edit; a node that accepted the
  // edits would serve that too, and nothing would serve version 1000.)
  bool real_kept = false;
  for (int attempt = 0; attempt < 20 && !real_kept; ++attempt) {
    for (const HostilePeer::Stored& value : hostile.Get(signed_key)) {
      auto record = dht::DecodeRecord(value.data);
      real_kept |= value.id == signed_value_id && record &&
                   record->version == real_signed.version;
    }
    if (!real_kept) std::this_thread::sleep_for(250ms);
  }
  EXPECT_TRUE(real_kept);
  // A copy of the real unsigned offer, cheaper, with a DHT signature that
  // does not verify.
  OfferRecord unsigned_copy = *stored_unsigned;
  unsigned_copy.offer.price = 1;
  unsigned_copy.version += 1;
  put(unsigned_key, dht::EncodeRecord(unsigned_copy), Signing::kBadSignature);

  // C joins after the attack: it learns everything by Fetch.
  auto c = Start("c", {a->dht_endpoint()});
  ASSERT_NE(c, nullptr);
  UdpClient at_c(c->edge_port());
  ASSERT_TRUE(WaitForDhtPeers(at_c, 1, 15s)) << c->Log();
  // Time for B's watch to deliver what the peer put.
  std::this_thread::sleep_for(2s);

  Offer expected_signed = real_signed.offer;
  expected_signed.flags = wire::kOfferFlagSigned;
  Offer expected_unsigned = stored_unsigned->offer;
  expected_unsigned.flags = 0;
  EXPECT_EQ(
      expected_unsigned.contact,
      (protocol::Ipv6Address{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(expected_unsigned.price, 700u);
  struct Named {
    const char* name;
    UdpClient* client;
    NodeProcess* node;
  };
  // First use (docs/security.md): a node that meets a device cold may meet
  // the thief's key first and keep it while it lives. Only C is cold.
  Offer thief_offer = stolen.offer;
  thief_offer.flags = wire::kOfferFlagSigned;
  // And until a signed version reaches it, a cold node may serve a peer's
  // unsigned claim of the device; the signed one then replaces it (the
  // index rule) and must be what it serves at the end.
  Offer claim_offer = unsigned_claim.offer;
  claim_offer.flags = 0;
  bool c_kept_thief = false;
  for (const Named& n : {Named{"a", &at_a, a.get()}, Named{"b", &at_b, b.get()},
                         Named{"c", &at_c, c.get()}}) {
    SCOPED_TRACE(n.name);
    const bool cold = n.client == &at_c;
    // Exactly the real pair, within 10 s. Not at the first answer: a node
    // that learns the device while the peer replays the owner's own older
    // version (the `older` edit above) under the real value id may serve
    // that version until its re-read of the watched keys (5 s after the
    // watch starts) brings the newest; a peer can always serve stale data.
    // Nothing forged may be served at any time, though.
    std::vector<Offer> offers;
    const auto end = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < end) {
      offers = WaitForOffers(*n.client, 2, 10s);
      for (const Offer& o : offers) {
        const bool real_or_older =
            o.device == unsigned_device ||
            (o.device == signed_device &&
             (o == expected_signed ||
              (o.price == 400 && o.contact == kRealContact) ||
              (cold && (o == thief_offer || o == claim_offer))));
        EXPECT_TRUE(real_or_older) << "served a forged offer: price " << o.price
                                   << ", flags " << int(o.flags);
      }
      auto has = [&](const Offer& want) {
        return offers.size() == 2 && (offers[0] == want || offers[1] == want);
      };
      if (has(expected_signed)) break;
      if (cold && has(thief_offer)) {
        c_kept_thief = true;
        break;
      }
      std::this_thread::sleep_for(200ms);
    }
    ASSERT_EQ(offers.size(), 2u) << n.node->Log();
    const Offer& first =
        offers[0].device == signed_device ? offers[0] : offers[1];
    const Offer& second = &first == &offers[0] ? offers[1] : offers[0];
    EXPECT_EQ(first, cold && c_kept_thief ? thief_offer : expected_signed);
    EXPECT_EQ(second, expected_unsigned);
    auto ping = Ask(*n.client, Ping(77));
    ASSERT_TRUE(ping);
    EXPECT_EQ(ping->packet.header.status, Status::kOk);
  }

  // The real owner can still change its offer, and every node follows.
  auto update =
      RegisterWithContact(signed_device, Entry(wire::kResourceCpu, 450), 7000,
                          kRealContact, wire::CheckType::kEd25519);
  reg = Ask(at_a, update, &*owner);
  ASSERT_TRUE(reg);
  EXPECT_EQ(reg->packet.header.status, Status::kOk);
  std::vector<UdpClient*> followers = {&at_b};
  if (!c_kept_thief) followers.push_back(&at_c);
  for (UdpClient* client : followers) {
    bool seen = false;
    const auto end = std::chrono::steady_clock::now() + 10s;
    while (!seen && std::chrono::steady_clock::now() < end) {
      if (auto offers = QueryCpu(*client)) {
        for (const Offer& o : *offers) {
          seen |= o.device == signed_device && o.price == 450;
        }
      }
      if (!seen) std::this_thread::sleep_for(200ms);
    }
    EXPECT_TRUE(seen);
  }
}

}  // namespace
}  // namespace crsp::testing
