// What register and withdraw share: admission (budget, require_signed,
// ownership, replay and resends), then journal -> index -> DHT -> answer.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "crsp/protocol/check.h"
#include "node_impl.h"
#include "ownership.h"
#include "source_prefix.h"

namespace crsp::node {

bool NodeImpl::AdmitWrite(std::unique_lock<std::mutex>& lock, Request& request,
                          const protocol::DeviceId& device, size_t max_entries,
                          std::shared_ptr<CachedAnswer>* cached) {
  const protocol::Header& header = request.decoded.packet.header;
  const uint64_t now = Now();
  // Reserve the largest answer now: the real one is sent later, from a DHT
  // callback, and must not be refused then.
  const size_t largest = wire::kHeaderSize + wire::kDeviceIdSize +
                         max_entries * wire::kEntryResultSize +
                         protocol::TrailerSize(header.check);
  if (!limiter_.TryConsume(request.prefix, largest, now)) {
    lock.unlock();
    SendRateLimited(request);
    return false;
  }
  const std::optional<protocol::PublicKey>& signer = request.decoded.signer;
  if (config_.require_signed && !signer) {
    lock.unlock();
    spdlog::warn(
        "from {}: unsigned {} refused (signatures required)",
        LogAddress{request.from.address},
        header.type == wire::kTypeRegisterRequest ? "register" : "withdraw");
    SendError(request, wire::Status::kNotAuthorized, true);
    return false;
  }
  const Owner requester{
      signer, signer ? protocol::Ipv6Address{} : request.from.address};
  const std::vector<const IndexedOffer*> records = index_.OfDevice(device, now);
  Verdict verdict = CheckOwnership(records, requester, header.txid, now);
  if (verdict == Verdict::kResend) {
    std::shared_ptr<CachedAnswer> hit = cache_.Find(device, header.txid);
    if (hit && hit->request == request.datagram) {
      if (hit->answer.empty()) {
        hit->waiters.push_back(std::move(request.reply));
        lock.unlock();
      } else {
        std::vector<std::byte> answer = hit->answer;
        lock.unlock();
        LogRequest(request,
                   static_cast<wire::Status>(answer[wire::kOffStatus]));
        request.reply(std::move(answer));
      }
      return false;
    }
    // Not cached (evicted, or the node restarted): the very same request
    // may run again, it writes what is already there.
    const bool same_request =
        std::any_of(records.begin(), records.end(), [&](const auto* offer) {
          return offer->record.version == header.txid &&
                 offer->record.signed_request == request.datagram;
        });
    verdict = same_request ? Verdict::kAllowed : Verdict::kRefused;
  }
  if (verdict == Verdict::kRefused) {
    lock.unlock();
    spdlog::warn("from {}: txid {} refused: not the owner, or replayed",
                 LogAddress{request.from.address}, header.txid);
    SendError(request, wire::Status::kNotAuthorized, true);
    return false;
  }
  // Admission: past the bound, the DHT could not confirm this request
  // within kPublishTimeoutSec anyway; refusing now is cheap and keeps the
  // accepted ones within it. (A resend of a pending request was answered
  // above: it adds no work.)
  if (pending_records_ >= config_.limits.max_pending_writes) {
    lock.unlock();
    spdlog::debug("from {}: {} writes pending, RATE_LIMITED",
                  LogAddress{request.from.address},
                  config_.limits.max_pending_writes);
    metrics_->RateLimited(LimitReason::kPendingWrites);
    SendError(request, wire::Status::kRateLimited, true);
    return false;
  }
  if (signer) *cached = cache_.Start(device, header.txid, request.datagram);
  return true;
}

void NodeImpl::CommitAndPublish(std::unique_lock<std::mutex>& lock,
                                std::shared_ptr<PendingWrite> op) {
  const uint64_t now = Now();
  std::vector<JournalEntry> batch;
  for (const Job& job : op->jobs) {
    batch.push_back({job.record, op->request.from.address});
  }
  if (batch.empty()) {
    std::vector<std::byte> bytes;
    std::vector<ReplyFn> replies = FinishLocked(*op, &bytes);
    lock.unlock();
    if (!bytes.empty()) {
      for (ReplyFn& reply : replies) reply(bytes);
    }
    return;
  }
  ++in_flight_;
  pending_records_ += op->jobs.size();
  bool written = false;
  if (config_.group_commit) {
    // Written now, synced by the journal's thread with every other write
    // made meanwhile; the DHT is asked once that sync returned.
    written = journal_ && journal_->Write(batch, [this, op](bool synced) {
      std::unique_lock lock(mu_);
      PublishSynced(lock, op, synced);
    });
  } else {
    written = journal_ && journal_->Append(batch);
  }
  if (!written) {
    spdlog::error("journal write failed: {} records answered STORAGE_FAILED",
                  batch.size());
    FailAll(lock, *op);
    return;
  }
  metrics_->Journaled(batch.size());
  // Applied at once, before the sync: later requests (ownership, versions,
  // quotas) must see it, and queries may serve it as they serve records the
  // DHT has not confirmed yet. Only the answer waits for durability.
  for (const JournalEntry& entry : batch) {
    local_.Put(entry);
    index_.Apply(entry.record, now);
  }
  if (config_.group_commit) {
    lock.unlock();
  } else {
    PublishSynced(lock, op, true);
  }
}

void NodeImpl::PublishSynced(std::unique_lock<std::mutex>& lock,
                             const std::shared_ptr<PendingWrite>& op,
                             bool synced) {
  if (!synced) {
    spdlog::error("journal sync failed: {} records answered STORAGE_FAILED",
                  op->jobs.size());
    FailAll(lock, *op);
    return;
  }
  op->outstanding = op->jobs.size();
  op->started = Now();
  pending_.push_back(op);
  // Copies: callbacks may settle `op` (and the Tick timeout may too) while
  // this loop still runs.
  std::vector<dht::OfferRecord> records;
  for (const Job& job : op->jobs) records.push_back(job.record);
  lock.unlock();
  for (size_t j = 0; j < records.size(); ++j) {
    dht_->Publish(records[j], [this, op, j](bool ok, uint16_t replicas) {
      OnPublished(op, j, ok, replicas);
    });
  }
}

void NodeImpl::FailAll(std::unique_lock<std::mutex>& lock, PendingWrite& op) {
  for (Job& job : op.jobs) {
    if (job.done) continue;
    job.done = true;
    --pending_records_;
    for (size_t e : job.entries) {
      op.results.entries[e].status = wire::Status::kStorageFailed;
    }
  }
  std::vector<std::byte> bytes;
  std::vector<ReplyFn> replies = FinishLocked(op, &bytes);
  --in_flight_;
  idle_.notify_all();
  lock.unlock();
  if (!bytes.empty()) {
    for (ReplyFn& reply : replies) reply(bytes);
  }
}

void NodeImpl::OnPublished(const std::shared_ptr<PendingWrite>& op,
                           size_t job_index, bool ok, uint16_t replicas) {
  std::vector<std::byte> bytes;
  std::vector<ReplyFn> replies;
  {
    std::lock_guard lock(mu_);
    Job& job = op->jobs[job_index];
    if (op->settled || job.done) return;
    job.done = true;
    --pending_records_;
    for (size_t e : job.entries) {
      op->results.entries[e].status =
          ok ? wire::Status::kOk : wire::Status::kStorageFailed;
      op->results.entries[e].replicas =
          ok ? std::max<uint16_t>(replicas, 1) : uint16_t{0};
    }
    local_.SetConfirmed(job.record, ok);
    if (!ok) {
      spdlog::warn(
          "DHT did not confirm an offer (txid {}); kept in the "
          "journal, re-published later",
          op->request.decoded.packet.header.txid);
    }
    if (--op->outstanding != 0) return;
    replies = FinishLocked(*op, &bytes);
    --in_flight_;
    idle_.notify_all();
  }
  if (bytes.empty()) return;
  for (ReplyFn& reply : replies) reply(bytes);
}

std::vector<ReplyFn> NodeImpl::FinishLocked(PendingWrite& op,
                                            std::vector<std::byte>* bytes) {
  op.settled = true;
  wire::Status status =
      op.results.entries.empty() ? op.empty_status : wire::Status::kOk;
  for (const protocol::EntryResult& entry : op.results.entries) {
    if (entry.status != wire::Status::kOk) {
      status = entry.status;
      break;
    }
  }
  const protocol::Header& request = op.request.decoded.packet.header;
  protocol::Packet answer{protocol::AnswerHeaderFor(request, status), {}};
  if (std::holds_alternative<protocol::RegisterRequest>(
          op.request.decoded.packet.body)) {
    answer.body = protocol::RegisterAnswer{op.results};
  } else {
    answer.body = protocol::WithdrawAnswer{op.results};
  }
  *bytes = EncodeAnswer(answer);
  LogRequest(op.request, status);
  std::vector<ReplyFn> replies;
  if (op.cached) {
    op.cached->answer = *bytes;
    replies = std::move(op.cached->waiters);
  }
  replies.push_back(std::move(op.request.reply));
  return replies;
}

}  // namespace crsp::node
