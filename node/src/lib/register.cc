// Register (PROTOCOL.md "Register request"): per-entry validation with the
// clock, quotas, one record per accepted entry, journalled and published.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "crsp/dht_adapter/version_order.h"
#include "node_impl.h"
#include "source_prefix.h"

namespace crsp::node {
namespace {

bool IsZero(const protocol::Ipv6Address& address) {
  return std::all_of(address.begin(), address.end(),
                     [](uint8_t b) { return b == 0; });
}

}  // namespace

void NodeImpl::HandleRegister(Request& request) {
  const auto& reg =
      std::get<protocol::RegisterRequest>(request.decoded.packet.body);
  const protocol::Header& header = request.decoded.packet.header;
  const bool is_signed = request.decoded.signer.has_value();

  Outbox out;  // before the lock: it acts once the lock is released
  MutexLock lock(&writes_.mu);
  std::shared_ptr<CachedAnswer> cached;
  if (!AdmitWriteLocked(request, reg.set.device, reg.entries.size(), &cached,
                        out)) {
    return;
  }
  const uint64_t now = Now();
  auto op = std::make_shared<PendingWrite>();
  op->cached = std::move(cached);
  op->results.device = reg.set.device;
  op->empty_status = wire::Status::kInvalidField;

  // Field validity. A request that failed decoding on a field that is no
  // entry's (the descriptor) fails every entry; so does a signed one, since
  // its records must carry a request that decodes cleanly to re-verify.
  bool entry_failed = false;
  for (const protocol::ResourceEntry& entry : reg.entries) {
    const wire::Status status = protocol::ValidateEntryAt(entry, now);
    entry_failed |= status != wire::Status::kOk;
    op->results.entries.push_back({entry.resource, status, 0});
  }
  const bool poisoned = request.decoded.status != wire::Status::kOk &&
                        (is_signed || !entry_failed);
  if (poisoned) {
    for (auto& result : op->results.entries) {
      result.status = wire::Status::kInvalidField;
    }
  }

  // A resource listed twice: the last valid entry is the offer, earlier
  // ones share its answer.
  std::map<uint16_t, size_t> last;
  for (size_t i = 0; i < reg.entries.size(); ++i) {
    if (op->results.entries[i].status == wire::Status::kOk) {
      last[reg.entries[i].resource] = i;
    }
  }
  const protocol::Ipv6Address prefix = request.prefix;
  uint32_t added = 0;
  const Limits& limits = config_.limits;
  std::map<uint16_t, size_t> job_of;  // resource -> job
  for (auto [resource, i] : last) {
    const protocol::ResourceEntry& entry = reg.entries[i];
    const JournalEntry* mine = writes_.local.Find(reg.set.device, resource);
    if (!(mine && !mine->record.withdrawn)) {
      // A new offer here: within the quotas? A withdrawn one still holds
      // its slot, and registering it again counts as new, so that a source
      // at its quota cannot cycle register/withdraw (each cycle two new
      // versions put under up to 22 keys: measured as steady growth in the
      // soak when such cycles were free).
      if (writes_.local.HeldFromPrefix(prefix) + added >=
              limits.offers_per_source ||
          writes_.local.HeldOfDevice(reg.set.device) + added >=
              limits.offers_per_device ||
          writes_.local.held() + added >= limits.max_offers) {
        spdlog::warn("from {}: offer quota reached, entry refused",
                     LogAddress{request.from.address});
        op->results.entries[i].status = wire::Status::kRateLimited;
        metrics_->RateLimited(LimitReason::kQuota);
        continue;
      }
      ++added;
    }
    dht::OfferRecord record;
    protocol::Offer& offer = record.offer;
    offer.device = reg.set.device;
    offer.contact =
        IsZero(reg.set.contact) ? request.from.address : reg.set.contact;
    offer.contact_port =
        reg.set.contact_port != 0 ? reg.set.contact_port : request.from.port;
    offer.device_kind = reg.set.device_kind;
    offer.currency = reg.set.currency;
    offer.resource = resource;
    offer.unit = entry.unit;
    offer.quantity = entry.quantity;
    offer.price = entry.price;
    offer.valid_from = entry.valid_from;
    offer.valid_until = entry.valid_until;
    if (is_signed) {
      record.signed_request = request.datagram;
    } else {
      record.owner_address = request.from.address;
    }
    {
      MutexLock read_lock(&reads_.mu);
      const IndexedOffer* current = reads_.index.Find(offer.device, resource);
      record.version = dht::StampVersion(
          is_signed ? std::optional<uint32_t>(header.txid) : std::nullopt, now,
          current ? &current->record : nullptr);
    }
    job_of[resource] = op->jobs.size();
    op->jobs.push_back(Job{std::move(record), {}, false});
  }
  for (size_t i = 0; i < reg.entries.size(); ++i) {
    if (op->results.entries[i].status != wire::Status::kOk) continue;
    auto job = job_of.find(reg.entries[i].resource);
    if (job != job_of.end()) op->jobs[job->second].entries.push_back(i);
  }
  op->request = std::move(request);
  CommitLocked(op, out);
}

}  // namespace crsp::node
