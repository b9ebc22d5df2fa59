// The node's offer journal: every record this node accepted (offers and
// tombstones), appended and fsync'd before the node acknowledges them, so a
// node killed at any moment loses no acknowledged offer.
//
// File format (`dir`/offers.journal), a sequence of frames:
//   u32 length   (big-endian, of the payload)
//   u32 crc32    (CRC-32 ISO-HDLC of the payload)
//   payload:  u8 format (1) | 16-byte source address | dht::EncodeRecord
// A reader checks length, then CRC, then decodes; the first frame that fails
// (a torn write at the tail) ends the journal and is cut off.
//
// Group commit: Write appends at once and leaves the fdatasync to a thread
// of the journal's own; every write made while a sync runs is covered by
// the next single sync, so the request thread never waits for the disk and
// N concurrent writes cost one sync, not N.
#ifndef CRSP_NODE_JOURNAL_H_
#define CRSP_NODE_JOURNAL_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "crsp/dht_adapter/offer_record.h"
#include "crsp/node/env.h"
#include "crsp/node/metrics.h"
#include "crsp/protocol/packets.h"

namespace crsp::node {

inline constexpr char kJournalFile[] = "offers.journal";

struct JournalEntry {
  dht::OfferRecord record;
  // The request's source address (quota accounting survives restarts).
  protocol::Ipv6Address source{};

  friend bool operator==(const JournalEntry&, const JournalEntry&) = default;
};

class Journal {
 public:
  // Opens (creating if missing) the journal in `dir` and reads it into
  // `entries`, oldest first. A torn or corrupt frame ends the journal: it
  // and everything after it are truncated away (`dropped_bytes` says how
  // much). Throws std::runtime_error when the file cannot be opened. Every
  // file-system call goes through `env`, which must outlive the journal.
  static std::unique_ptr<Journal> Open(const std::string& dir,
                                       std::vector<JournalEntry>* entries,
                                       uint64_t* dropped_bytes = nullptr,
                                       Env* env = Env::Default());
  // Syncs what was written and calls the outstanding Durable callbacks
  // first (so it must not run under a lock those callbacks take).
  ~Journal();

  // Called once per Write, from the journal's sync thread, in write order:
  // true once an fdatasync begun after the write returned (the frames are
  // on disk), false when that sync failed.
  using Durable = std::function<void(bool synced)>;

  // Appends `batch` now (one write(2), no sync) and has `done` called when
  // it is durable. False, and `done` never called, when the write failed
  // or an earlier sync failed (after a failed fdatasync the kernel may have
  // dropped written pages, so nothing written since can be trusted: the
  // journal refuses writes until reopened or rewritten). A write that
  // failed half-way is cut off again, so that no later frame follows a torn
  // one (a reader stops at the first torn frame); when even that fails,
  // the journal refuses writes as after a failed sync. Calls of Write, Append
  // and Rewrite must not overlap (the node makes them under its lock).
  bool Write(std::span<const JournalEntry> batch, Durable done);

  // Write, then wait for its sync. False when writing or syncing failed;
  // the caller must then not acknowledge these entries.
  bool Append(std::span<const JournalEntry> batch);

  // Replaces the journal by exactly `live` (compaction): written to a
  // temporary file, fsync'd, renamed over the journal, directory fsync'd.
  // `live` must include the records of writes still waiting for their sync
  // (the node's local records do), since they were written to the old file.
  bool Rewrite(std::span<const JournalEntry> live);

  // Where the duration of each fdatasync of the sync thread goes; null (the
  // default): nowhere. `metrics` must outlive the journal.
  void set_metrics(NodeMetrics* metrics);

  // Frames in the file now (for the compaction decision).
  uint64_t frames() const;

  // Encodes one frame (exposed for tests that corrupt journals).
  static std::vector<std::byte> Frame(const JournalEntry& entry);

 private:
  Journal(Env* env, std::string dir, int fd, uint64_t frames, uint64_t size);
  void SyncLoop();

  Env* const env_;
  const std::string dir_;
  mutable std::mutex mu_;  // guards everything below but syncer_
  std::condition_variable wake_;
  int fd_;
  uint64_t frames_;
  uint64_t size_;                 // bytes of whole frames in the file
  std::vector<Durable> waiting_;  // written, no sync begun since
  bool failed_ = false;           // a sync failed: no more writes
  NodeMetrics* metrics_ = nullptr;
  bool stop_ = false;
  std::thread syncer_;  // last: started once the rest is set up
};

}  // namespace crsp::node

#endif  // CRSP_NODE_JOURNAL_H_
