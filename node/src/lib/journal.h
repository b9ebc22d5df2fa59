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
#ifndef CRSP_NODE_JOURNAL_H_
#define CRSP_NODE_JOURNAL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "crsp/dht_adapter/offer_record.h"
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
  // much). Throws std::runtime_error when the file cannot be opened.
  static std::unique_ptr<Journal> Open(const std::string& dir,
                                       std::vector<JournalEntry>* entries,
                                       uint64_t* dropped_bytes = nullptr);
  ~Journal();

  // Appends `batch` and fsyncs. False when writing or syncing failed; the
  // caller must then not acknowledge these entries.
  bool Append(std::span<const JournalEntry> batch);

  // Replaces the journal by exactly `live` (compaction): written to a
  // temporary file, fsync'd, renamed over the journal, directory fsync'd.
  bool Rewrite(std::span<const JournalEntry> live);

  // Frames in the file now (for the compaction decision).
  uint64_t frames() const { return frames_; }

  // Encodes one frame (exposed for tests that corrupt journals).
  static std::vector<std::byte> Frame(const JournalEntry& entry);

 private:
  Journal(std::string dir, int fd, uint64_t frames);

  std::string dir_;
  int fd_;
  uint64_t frames_;
};

}  // namespace crsp::node

#endif  // CRSP_NODE_JOURNAL_H_
