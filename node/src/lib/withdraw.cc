// Withdraw (PROTOCOL.md "Withdraw request"): a tombstone per live offer,
// journalled, applied to the index at once (hidden here immediately) and
// published so that every node's index hides the offer.
#include <map>

#include "crsp/dht_adapter/version_order.h"
#include "crsp/protocol/check.h"
#include "node_impl.h"

namespace crsp::node {

void NodeImpl::HandleWithdraw(Request& request) {
  const auto& withdraw =
      std::get<protocol::WithdrawRequest>(request.decoded.packet.body);
  const protocol::Header& header = request.decoded.packet.header;
  const bool is_signed = request.decoded.signer.has_value();
  // "Every offer" answers one entry per offer: as many as fit one answer.
  const size_t fit =
      (wire::kMaxAnswer - wire::kHeaderSize - wire::kDeviceIdSize -
       protocol::TrailerSize(header.check)) /
      wire::kEntryResultSize;

  Outbox out;  // before the lock: it acts once the lock is released
  MutexLock lock(&writes_.mu);
  std::shared_ptr<CachedAnswer> cached;
  const size_t max_entries =
      withdraw.resources.empty() ? fit : withdraw.resources.size();
  if (!AdmitWriteLocked(request, withdraw.device, max_entries, &cached, out)) {
    return;
  }
  const uint64_t now = Now();
  auto op = std::make_shared<PendingWrite>();
  op->cached = std::move(cached);
  op->results.device = withdraw.device;
  op->empty_status = wire::Status::kNotFound;

  {
    // The current records (CommitLocked applies the tombstones later).
    MutexLock read_lock(&reads_.mu);
    std::vector<uint16_t> resources = withdraw.resources;
    if (resources.empty()) {
      for (const IndexedOffer* offer :
           reads_.index.OfDevice(withdraw.device, now)) {
        if (offer->live(now) && resources.size() < fit) {
          resources.push_back(offer->record.offer.resource);
        }
      }
    }
    std::map<uint16_t, size_t> job_of;
    for (size_t i = 0; i < resources.size(); ++i) {
      const uint16_t resource = resources[i];
      op->results.entries.push_back({resource, wire::Status::kOk, 0});
      if (auto job = job_of.find(resource); job != job_of.end()) {
        op->jobs[job->second].entries.push_back(i);
        continue;
      }
      const IndexedOffer* current =
          reads_.index.Find(withdraw.device, resource);
      if (!current || !current->live(now)) {
        op->results.entries[i].status = wire::Status::kNotFound;
        continue;
      }
      dht::OfferRecord tombstone = current->record;
      tombstone.withdrawn = true;
      tombstone.offer.flags = 0;
      tombstone.version = dht::StampVersion(
          is_signed ? std::optional<uint32_t>(header.txid) : std::nullopt, now,
          &current->record);
      if (is_signed) {
        tombstone.owner_address = {};
        tombstone.signed_request = request.datagram;
      } else {
        tombstone.owner_address = request.from.address;
        tombstone.signed_request.clear();
      }
      job_of[resource] = op->jobs.size();
      op->jobs.push_back(Job{std::move(tombstone), {i}, false});
    }
  }
  op->request = std::move(request);
  CommitLocked(op, out);
}

}  // namespace crsp::node
