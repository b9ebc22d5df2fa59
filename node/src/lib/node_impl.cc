#include "node_impl.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>
#include <utility>

#include "crsp/protocol/check.h"
#include "crsp/support/clock.h"
#include "file_util.h"
#include "node_key.h"
#include "source_prefix.h"

namespace crsp::node {
namespace {

// The packet's kind as the node logs it ("register_request"), or
// "unknown" for a (protocol, type) pair outside PROTOCOL.md.
std::string_view KindName(const protocol::Header& header) {
  const std::optional<wire::PacketKind> kind =
      protocol::KindOf(header.protocol, header.type);
  return kind ? wire::PacketKindName(*kind) : "unknown";
}

}  // namespace

std::unique_ptr<Node> Node::Create(const NodeConfig& config,
                                   NodeContext context) {
  if (!context.dht) throw std::runtime_error("Node::Create needs a DHT");
  Env* env = context.env ? context.env : Env::Default();
  EnsureDirectory(config.state_dir);
  protocol::Ed25519Key key = LoadOrCreateNodeKey(config.state_dir, env);
  std::vector<JournalEntry> replayed;
  uint64_t dropped = 0;
  std::unique_ptr<Journal> journal =
      Journal::Open(config.state_dir, &replayed, &dropped, env);
  if (dropped != 0) {
    spdlog::warn("journal: cut {} bytes of a torn or corrupt tail", dropped);
  }
  auto node = std::make_unique<NodeImpl>(
      config, std::move(context), std::move(key), std::move(journal), replayed);
  node->RepublishAll();
  return node;
}

NodeImpl::NodeImpl(const NodeConfig& config, NodeContext context,
                   protocol::Ed25519Key key, std::unique_ptr<Journal> journal,
                   const std::vector<JournalEntry>& replayed)
    : config_(config),
      clock_(context.clock ? std::move(context.clock)
                           : Clock(support::UnixSeconds)),
      key_(std::move(key)),
      started_(clock_()),
      metrics_(context.metrics ? context.metrics : NoMetrics()),
      budgets_(config.limits, kMaxRateSources, kAnswerCacheSize),
      send_to_(std::move(context.send_to)),
      edge_port_(context.edge_port),
      timers_(std::make_unique<Timers>()),
      dht_(std::move(context.dht)) {
  // No other thread sees the node yet; the locks only satisfy the analysis.
  MutexLock write_lock(&writes_.mu);
  MutexLock read_lock(&reads_.mu);
  writes_.journal = std::move(journal);
  // The journal is in acceptance order: a later entry is the newer version.
  for (const JournalEntry& entry : replayed) writes_.local.Put(entry);
  const uint64_t now = Now();
  writes_.local.Expire(now);
  std::vector<JournalEntry> live = writes_.local.All();
  for (const JournalEntry& entry : live) reads_.index.Apply(entry.record, now);
  writes_.journal->set_metrics(metrics_.get());
  // Start from a compact journal: no expired or superseded frames.
  if (writes_.journal->frames() != live.size() &&
      !writes_.journal->Rewrite(live)) {
    throw std::runtime_error("cannot compact the journal in " +
                             config.state_dir);
  }
  spdlog::info("journal: {} records ({} live offers) from {}", live.size(),
               writes_.local.live(), config.state_dir);
  dht_->OnDemand([this](const dht::aggregator::Demand& demand) {
    CheckRole(demand.resource, demand.suspects);
  });
}

NodeImpl::~NodeImpl() {
  Shutdown(std::chrono::milliseconds(0));
  dht_->Shutdown(std::chrono::milliseconds(3000));
  // After the DHT (whose last callbacks may still schedule a forwarded
  // query's timeout) and before the members go: no timeout runs on a
  // destroyed DHT.
  timers_->Stop();
}

size_t NodeImpl::offer_count() const {
  MutexLock lock(&writes_.mu);
  return writes_.local.live();
}

void NodeImpl::RepublishAll() {
  std::vector<JournalEntry> all;
  {
    MutexLock lock(&writes_.mu);
    all = writes_.local.All();
  }
  // Not pushed: the aggregators read these before (or will at their
  // catch-up read); 2,000 records at once would be 6,000 pushes.
  for (const JournalEntry& entry : all) Publish(entry.record, false);
}

void NodeImpl::Publish(const dht::OfferRecord& record, bool push) {
  {
    MutexLock lock(&writes_.mu);
    ++writes_.retries_in_flight;
  }
  dht_->Publish(record, [this, record, push](bool ok, uint16_t) {
    {
      MutexLock lock(&writes_.mu);
      --writes_.retries_in_flight;
      writes_.local.SetConfirmed(record, ok);
      if (!ok) {
        spdlog::warn("re-publication of an offer failed; retried in {} s",
                     kRetryIntervalSec);
      }
    }
    // A record the DHT refused at first: no aggregator was told of it.
    if (ok && push) PushRecords({record});
  });
}

void NodeImpl::HandleDatagram(std::span<const std::byte> datagram,
                              const Sender& from, ReplyFn reply) {
  // Node-to-node messages are taken from DHT peers only; from anyone else
  // they are an unknown packet type (PROTOCOL.md), answered below. An
  // answer (0x41, 0x43) is also taken from the aggregator this node
  // forwarded a query or pushed records to and waits for: its own search met
  // it as a DHT node. (When peers were the routing table's nodes, a loaded
  // host's table marked such a node expired, every answer was dropped and
  // each aggregator taken for dead: seen under ASan on 2 cores. Kept as a
  // backstop for one heard over 20 minutes ago.)
  if (datagram.size() > wire::kOffType &&
      protocol::IsPeerType(static_cast<uint8_t>(datagram[wire::kOffProtocol]),
                           static_cast<uint8_t>(datagram[wire::kOffType])) &&
      (dht_->IsPeer(from.address) ||
       AwaitsAnswerFrom(from,
                        static_cast<uint8_t>(datagram[wire::kOffType])))) {
    HandlePeerDatagram(datagram, from, std::move(reply));
    return;
  }
  Request request;
  request.decoded = protocol::Decode(datagram);
  if (!request.decoded.answerable) {
    spdlog::debug("from {} port {}: {} bytes, no answer ({})",
                  LogAddress{from.address}, from.port, datagram.size(),
                  request.decoded.detail);
    metrics_->Dropped(DropReason::kUndecodable);
    return;
  }
  request.datagram.assign(datagram.begin(), datagram.end());
  request.from = from;
  request.prefix = SourcePrefix(from.address);
  request.reply = std::move(reply);
  {
    MutexLock lock(&life_.mu);
    if (life_.stopping) return;
  }

  const wire::Status status = request.decoded.status;
  const protocol::Body& body = request.decoded.packet.body;
  const bool usable = status == wire::Status::kOk ||
                      (status == wire::Status::kInvalidField &&
                       std::holds_alternative<protocol::RegisterRequest>(body));
  if (!usable) {
    SendError(request, status);
    return;
  }
  if (std::holds_alternative<protocol::PingRequest>(body)) {
    HandlePing(request);
  } else if (std::holds_alternative<protocol::RegisterRequest>(body)) {
    HandleRegister(request);
  } else if (std::holds_alternative<protocol::WithdrawRequest>(body)) {
    HandleWithdraw(request);
  } else if (std::holds_alternative<protocol::QueryRequest>(body)) {
    HandleQuery(request);
  } else {
    SendError(request, wire::Status::kMalformed);
  }
}

std::vector<std::byte> NodeImpl::EncodeAnswer(
    const protocol::Packet& packet) const {
  const bool sign = packet.header.check == wire::CheckType::kEd25519;
  std::vector<std::byte> bytes =
      protocol::Encode(packet, sign ? &key_ : nullptr);
  if (bytes.empty()) {
    spdlog::error("cannot encode an answer (txid {})", packet.header.txid);
  } else if (bytes.size() > wire::kMaxAnswer) {
    spdlog::error("answer of {} bytes exceeds {}: not sent", bytes.size(),
                  wire::kMaxAnswer);
    bytes.clear();
  }
  return bytes;
}

void NodeImpl::LogRequest(const Request& request, wire::Status status) const {
  const protocol::Header& header = request.decoded.packet.header;
  spdlog::debug("from {} port {}: {} txid {} check {} -> {}",
                LogAddress{request.from.address}, request.from.port,
                KindName(header), header.txid, static_cast<int>(header.check),
                wire::StatusName(status));
}

void NodeImpl::Send(const Request& request, const protocol::Packet& answer,
                    bool charged) {
  std::vector<std::byte> bytes = EncodeAnswer(answer);
  if (bytes.empty()) return;
  bool within_budget = true;
  if (!charged) {
    MutexLock lock(&budgets_.mu);
    within_budget =
        budgets_.limiter.TryConsume(request.prefix, bytes.size(), Now());
  }
  if (!within_budget) {
    SendRateLimited(request);
    return;
  }
  LogRequest(request, answer.header.status);
  request.reply(std::move(bytes));
}

void NodeImpl::SendError(const Request& request, wire::Status status,
                         bool charged) {
  Send(request, protocol::ErrorAnswer(request.decoded.packet.header, status),
       charged);
}

void NodeImpl::SendRateLimited(const Request& request) {
  std::vector<std::byte> bytes = EncodeAnswer(protocol::ErrorAnswer(
      request.decoded.packet.header, wire::Status::kRateLimited));
  // Never amplify: an answer to a flood is at most as large as the request.
  if (bytes.empty() || bytes.size() > request.datagram.size()) {
    spdlog::debug("from {}: over the answer budget, dropped",
                  LogAddress{request.from.address});
    metrics_->Dropped(DropReason::kBudget);
    return;
  }
  spdlog::warn("from {}: over the answer budget, RATE_LIMITED",
               LogAddress{request.from.address});
  metrics_->RateLimited(LimitReason::kBudget);
  request.reply(std::move(bytes));
}

void NodeImpl::HandlePing(Request& request) {
  // A ping answer's size is known in advance: take it from the budget
  // before asking the DHT, since Info() may wait for OpenDHT's thread and a
  // flood of pings must not make the node do that work.
  const protocol::Header header = protocol::AnswerHeaderFor(
      request.decoded.packet.header, wire::Status::kOk);
  const size_t size = wire::kHeaderSize + wire::kPingAnswerBodySize +
                      protocol::TrailerSize(header.check);
  bool within_budget;
  {
    MutexLock lock(&budgets_.mu);
    within_budget = budgets_.limiter.TryConsume(request.prefix, size, Now());
  }
  if (!within_budget) {
    SendRateLimited(request);
    return;
  }
  const dht::DhtInfo info = dht_->Info();
  protocol::PingAnswer ping;
  ping.node_id = info.node_id;
  ping.peers = info.good_peers;
  ping.public_key = key_.public_key();
  const uint64_t now = Now();
  ping.uptime = static_cast<uint32_t>(now > started_ ? now - started_ : 0);
  ping.offers = static_cast<uint32_t>(offer_count());
  Send(request, protocol::Packet{header, ping}, /*charged=*/true);
}

void NodeImpl::Tick() {
  const uint64_t now = Now();
  std::vector<std::shared_ptr<PendingWrite>> timed_out;
  std::vector<dht::OfferRecord> retry;
  bool stopping;
  {
    MutexLock lock(&life_.mu);
    stopping = life_.stopping;
  }
  size_t expired, indexed;
  {
    MutexLock lock(&reads_.mu);
    expired = reads_.index.Expire(now);
    indexed = reads_.index.size();
  }
  {
    MutexLock lock(&budgets_.mu);
    budgets_.limiter.Evict(now);
  }
  {
    MutexLock lock(&writes_.mu);
    const size_t expired_local = writes_.local.Expire(now);
    if (expired + expired_local != 0) {
      spdlog::debug("expired {} indexed and {} own records", expired,
                    expired_local);
    }
    metrics_->Offers({writes_.local.live(), indexed, writes_.pending_records});
    // Compact when most frames are superseded or expired.
    if (writes_.journal &&
        writes_.journal->frames() > 2 * writes_.local.size() + 1024) {
      if (!writes_.journal->Rewrite(writes_.local.All())) {
        spdlog::error("journal compaction failed; appends go on");
      }
    }
    for (auto it = writes_.pending.begin(); it != writes_.pending.end();) {
      std::shared_ptr<PendingWrite> op = it->lock();
      if (!op || op->settled) {
        it = writes_.pending.erase(it);
      } else {
        if (now >= op->started + kPublishTimeoutSec) timed_out.push_back(op);
        ++it;
      }
    }
    if (!stopping && writes_.retries_in_flight == 0 &&
        now >= writes_.last_retry + kRetryIntervalSec) {
      writes_.last_retry = now;
      retry = writes_.local.Unconfirmed();
    }
  }
  for (const auto& op : timed_out) {
    for (size_t job = 0; job < op->jobs.size(); ++job) {
      OnPublished(op, job, false, 0);  // a no-op for settled jobs
    }
  }
  for (const dht::OfferRecord& record : retry) Publish(record, true);
  TickAggregation(now);
}

void NodeImpl::BeginInFlight(size_t n) {
  MutexLock lock(&life_.mu);
  life_.in_flight += n;
}

void NodeImpl::EndInFlight(size_t n) {
  MutexLock lock(&life_.mu);
  life_.in_flight -= n;
  life_.idle.notify_all();
}

void NodeImpl::Shutdown(std::chrono::milliseconds timeout) {
  {
    MutexLock lock(&life_.mu);
    life_.stopping = true;
    if (!life_.mu.WaitFor(life_.idle, timeout, [this]() REQUIRES(life_.mu) {
          return life_.in_flight == 0;
        })) {
      spdlog::warn("shutdown: {} requests still wait for the DHT",
                   life_.in_flight);
    }
  }
  // Closed without the lock: closing runs the journal's last sync
  // callbacks, which take it.
  std::unique_ptr<Journal> journal;
  {
    MutexLock lock(&writes_.mu);
    journal = std::move(writes_.journal);
  }
  journal.reset();
}

}  // namespace crsp::node
