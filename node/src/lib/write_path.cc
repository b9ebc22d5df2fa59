// What register and withdraw share: admission (budget, require_signed,
// ownership, replay and resends), then journal -> index -> DHT -> answer.
// Every step decides with WriteState::mu held and leaves what it sends and
// publishes to an Outbox (outbox.h).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "crsp/protocol/check.h"
#include "node_impl.h"
#include "ownership.h"
#include "source_prefix.h"

namespace crsp::node {

bool NodeImpl::AdmitWriteLocked(Request& request,
                                const protocol::DeviceId& device,
                                size_t max_entries,
                                std::shared_ptr<CachedAnswer>* cached,
                                Outbox& out) {
  const protocol::Header& header = request.decoded.packet.header;
  const uint64_t now = Now();
  // Reserve the largest answer now: the real one is sent later, from a DHT
  // callback, and must not be refused then.
  const size_t largest = wire::kHeaderSize + wire::kDeviceIdSize +
                         max_entries * wire::kEntryResultSize +
                         protocol::TrailerSize(header.check);
  bool within_budget;
  {
    MutexLock lock(&budgets_.mu);
    within_budget = budgets_.limiter.TryConsume(request.prefix, largest, now);
  }
  if (!within_budget) {
    out.Then([this, &request] { SendRateLimited(request); });
    return false;
  }
  const std::optional<protocol::PublicKey>& signer = request.decoded.signer;
  if (config_.require_signed && !signer) {
    spdlog::warn(
        "from {}: unsigned {} refused (signatures required)",
        LogAddress{request.from.address},
        header.type == wire::kTypeRegisterRequest ? "register" : "withdraw");
    out.Then([this, &request] {
      SendError(request, wire::Status::kNotAuthorized, true);
    });
    return false;
  }
  const Owner requester{
      signer, signer ? protocol::Ipv6Address{} : request.from.address};
  Verdict verdict;
  bool same_request = false;
  {
    MutexLock lock(&reads_.mu);
    const std::vector<const IndexedOffer*> records =
        reads_.index.OfDevice(device, now);
    verdict = CheckOwnership(records, requester, header.txid, now);
    // Only a resend needs it (below), when its answer is no longer cached.
    same_request =
        verdict == Verdict::kResend &&
        std::any_of(records.begin(), records.end(), [&](const auto* offer) {
          return offer->record.version == header.txid &&
                 offer->record.signed_request == request.datagram;
        });
  }
  if (verdict == Verdict::kResend) {
    MutexLock lock(&budgets_.mu);
    std::shared_ptr<CachedAnswer> hit =
        budgets_.cache.Find(device, header.txid);
    if (hit && hit->request == request.datagram) {
      if (hit->answer.empty()) {
        hit->waiters.push_back(std::move(request.reply));
      } else {
        out.Then([this, &request, answer = hit->answer]() mutable {
          LogRequest(request,
                     static_cast<wire::Status>(answer[wire::kOffStatus]));
          request.reply(std::move(answer));
        });
      }
      return false;
    }
    // Not cached (evicted, or the node restarted): the very same request
    // may run again, it writes what is already there.
    verdict = same_request ? Verdict::kAllowed : Verdict::kRefused;
  }
  if (verdict == Verdict::kRefused) {
    spdlog::warn("from {}: txid {} refused: not the owner, or replayed",
                 LogAddress{request.from.address}, header.txid);
    out.Then([this, &request] {
      SendError(request, wire::Status::kNotAuthorized, true);
    });
    return false;
  }
  // Admission: past the bound, the DHT could not confirm this request
  // within kPublishTimeoutSec anyway; refusing now is cheap and keeps the
  // accepted ones within it. (A resend of a pending request was answered
  // above: it adds no work.)
  if (writes_.pending_records >= config_.limits.max_pending_writes) {
    spdlog::debug("from {}: {} writes pending, RATE_LIMITED",
                  LogAddress{request.from.address},
                  config_.limits.max_pending_writes);
    metrics_->RateLimited(LimitReason::kPendingWrites);
    out.Then([this, &request] {
      SendError(request, wire::Status::kRateLimited, true);
    });
    return false;
  }
  if (signer) {
    MutexLock lock(&budgets_.mu);
    *cached = budgets_.cache.Start(device, header.txid, request.datagram);
  }
  return true;
}

void NodeImpl::CommitLocked(const std::shared_ptr<PendingWrite>& op,
                            Outbox& out) {
  const uint64_t now = Now();
  std::vector<JournalEntry> batch;
  for (const Job& job : op->jobs) {
    batch.push_back({job.record, op->request.from.address});
  }
  if (batch.empty()) {
    FinishLocked(*op, out);
    return;
  }
  BeginInFlight();
  writes_.pending_records += op->jobs.size();
  bool written = false;
  if (config_.group_commit) {
    // Written now, synced by the journal's thread with every other write
    // made meanwhile; the DHT is asked once that sync returned.
    written = writes_.journal &&
              writes_.journal->Write(
                  batch, [this, op](bool synced) { OnSynced(op, synced); });
  } else {
    written = writes_.journal && writes_.journal->Append(batch);
  }
  if (!written) {
    spdlog::error("journal write failed: {} records answered STORAGE_FAILED",
                  batch.size());
    FailAllLocked(*op, out);
    return;
  }
  metrics_->Journaled(batch.size());
  // Applied at once, before the sync: later requests (ownership, versions,
  // quotas) must see it, and queries may serve it as they serve records the
  // DHT has not confirmed yet. Only the answer waits for durability.
  for (const JournalEntry& entry : batch) writes_.local.Put(entry);
  {
    MutexLock lock(&reads_.mu);
    for (const JournalEntry& entry : batch) {
      reads_.index.Apply(entry.record, now);
    }
  }
  if (!config_.group_commit) PublishLocked(op, out);
}

void NodeImpl::OnSynced(const std::shared_ptr<PendingWrite>& op, bool synced) {
  Outbox out;
  MutexLock lock(&writes_.mu);
  if (!synced) {
    spdlog::error("journal sync failed: {} records answered STORAGE_FAILED",
                  op->jobs.size());
    FailAllLocked(*op, out);
    return;
  }
  PublishLocked(op, out);
}

void NodeImpl::PublishLocked(const std::shared_ptr<PendingWrite>& op,
                             Outbox& out) {
  op->outstanding = op->jobs.size();
  op->started = Now();
  writes_.pending.push_back(op);
  // Copies: callbacks may settle `op` (and the Tick timeout may too) while
  // the publishing loop still runs.
  std::vector<dht::OfferRecord> records;
  for (const Job& job : op->jobs) records.push_back(job.record);
  out.Then([this, op, records = std::move(records)] {
    for (size_t j = 0; j < records.size(); ++j) {
      dht_->Publish(records[j], [this, op, j](bool ok, uint16_t replicas) {
        OnPublished(op, j, ok, replicas);
      });
    }
  });
}

void NodeImpl::FailAllLocked(PendingWrite& op, Outbox& out) {
  for (Job& job : op.jobs) {
    if (job.done) continue;
    job.done = true;
    --writes_.pending_records;
    for (size_t e : job.entries) {
      op.results.entries[e].status = wire::Status::kStorageFailed;
    }
  }
  FinishLocked(op, out);
  EndInFlight();
}

void NodeImpl::OnPublished(const std::shared_ptr<PendingWrite>& op,
                           size_t job_index, bool ok, uint16_t replicas) {
  Outbox out;
  MutexLock lock(&writes_.mu);
  Job& job = op->jobs[job_index];
  if (op->settled || job.done) return;
  job.done = true;
  --writes_.pending_records;
  for (size_t e : job.entries) {
    op->results.entries[e].status =
        ok ? wire::Status::kOk : wire::Status::kStorageFailed;
    op->results.entries[e].replicas =
        ok ? std::max<uint16_t>(replicas, 1) : uint16_t{0};
  }
  writes_.local.SetConfirmed(job.record, ok);
  if (ok) {
    out.Then([this, record = job.record] { PushRecords({record}); });
  } else {
    spdlog::warn(
        "DHT did not confirm an offer (txid {}); kept in the "
        "journal, re-published later",
        op->request.decoded.packet.header.txid);
  }
  if (--op->outstanding != 0) return;
  FinishLocked(*op, out);
  EndInFlight();
}

void NodeImpl::FinishLocked(PendingWrite& op, Outbox& out) {
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
  std::vector<std::byte> bytes = EncodeAnswer(answer);
  LogRequest(op.request, status);
  std::vector<ReplyFn> replies;
  if (op.cached) {
    MutexLock lock(&budgets_.mu);
    op.cached->answer = bytes;
    replies = std::move(op.cached->waiters);
  }
  replies.push_back(std::move(op.request.reply));
  out.Reply(std::move(replies), std::move(bytes));
}

}  // namespace crsp::node
