#include "journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <stdexcept>

#include "crsp/protocol/check.h"
#include "crsp/protocol/cursor.h"

namespace crsp::node {
namespace {

constexpr uint8_t kFormat = 1;
constexpr size_t kFrameHeader = 8;
constexpr size_t kMaxPayload = 1 + 16 + dht::kMaxRecordSize;

std::string PathOf(const std::string& dir) { return dir + "/" + kJournalFile; }

bool ReadFile(Env* env, int fd, std::vector<std::byte>& out) {
  std::byte buffer[65536];
  for (;;) {
    const ssize_t n = env->Read(fd, buffer, sizeof buffer);
    if (n < 0) return false;
    if (n == 0) return true;
    out.insert(out.end(), buffer, buffer + n);
  }
}

// Parses one payload; empty when it does not decode.
std::optional<JournalEntry> ParsePayload(std::span<const std::byte> payload) {
  if (payload.size() < 17 || payload[0] != std::byte{kFormat}) return {};
  JournalEntry entry;
  std::memcpy(entry.source.data(), payload.data() + 1, 16);
  std::optional<dht::OfferRecord> record =
      dht::DecodeRecord(payload.subspan(17));
  if (!record) return {};
  entry.record = std::move(*record);
  return entry;
}

}  // namespace

std::vector<std::byte> Journal::Frame(const JournalEntry& entry) {
  std::vector<std::byte> payload;
  payload.push_back(std::byte{kFormat});
  const auto* src = reinterpret_cast<const std::byte*>(entry.source.data());
  payload.insert(payload.end(), src, src + entry.source.size());
  const std::vector<std::byte> record = dht::EncodeRecord(entry.record);
  payload.insert(payload.end(), record.begin(), record.end());

  std::vector<std::byte> frame;
  protocol::Writer w(frame);
  w.U32(static_cast<uint32_t>(payload.size()));
  w.U32(protocol::Crc32(payload));
  w.Bytes(std::span<const std::byte>(payload));
  return frame;
}

std::unique_ptr<Journal> Journal::Open(const std::string& dir,
                                       std::vector<JournalEntry>* entries,
                                       uint64_t* dropped_bytes, Env* env) {
  const std::string path = PathOf(dir);
  const int fd = env->Open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::runtime_error("cannot open journal " + path + ": " +
                             std::strerror(errno));
  }
  std::vector<std::byte> bytes;
  if (!ReadFile(env, fd, bytes)) {
    env->Close(fd);
    throw std::runtime_error("cannot read journal " + path + ": " +
                             std::strerror(errno));
  }
  // Length, then CRC, then decode; the first failure is the end.
  size_t good = 0;
  uint64_t frames = 0;
  for (;;) {
    protocol::Reader r(std::span<const std::byte>(bytes).subspan(good));
    const uint32_t length = r.U32();
    const uint32_t crc = r.U32();
    if (!r.ok() || length > kMaxPayload || r.remaining() < length) break;
    const std::span<const std::byte> payload = r.Take(length);
    if (protocol::Crc32(payload) != crc) break;
    std::optional<JournalEntry> entry = ParsePayload(payload);
    if (!entry) break;
    if (entries) entries->push_back(std::move(*entry));
    good += kFrameHeader + length;
    ++frames;
  }
  if (dropped_bytes) *dropped_bytes = bytes.size() - good;
  if (good != bytes.size()) {
    // Cut the torn tail so that later appends follow the last good frame.
    if (!env->Truncate(fd, good) || !env->Sync(fd)) {
      env->Close(fd);
      throw std::runtime_error("cannot truncate journal " + path + ": " +
                               std::strerror(errno));
    }
  }
  env->SyncDirectory(dir);
  return std::unique_ptr<Journal>(new Journal(env, dir, fd, frames, good));
}

Journal::Journal(Env* env, std::string dir, int fd, uint64_t frames,
                 uint64_t size)
    : env_(env),
      dir_(std::move(dir)),
      fd_(fd),
      frames_(frames),
      size_(size),
      syncer_([this] { SyncLoop(); }) {}

Journal::~Journal() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  syncer_.join();  // the loop drains `waiting_` before it ends
  if (fd_ >= 0) env_->Close(fd_);
}

void Journal::set_metrics(NodeMetrics* metrics) {
  std::lock_guard lock(mu_);
  metrics_ = metrics;
}

uint64_t Journal::frames() const {
  std::lock_guard lock(mu_);
  return frames_;
}

void Journal::SyncLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !waiting_.empty(); });
    if (waiting_.empty()) return;  // stopping, nothing left
    // Everything in `waiting_` was written before this point, so one sync
    // begun now covers it all; later writes wait for the next round.
    std::vector<Durable> batch = std::move(waiting_);
    waiting_.clear();
    // A duplicate, so Rewrite may replace fd_ meanwhile (it makes the new
    // file durable itself, the writes of `batch` included).
    const int fd = fd_ >= 0 && !failed_ ? env_->Dup(fd_) : -1;
    NodeMetrics* const metrics = metrics_;
    lock.unlock();
    const auto sync_started = std::chrono::steady_clock::now();
    const bool synced = fd >= 0 && env_->SyncData(fd);
    if (metrics && fd >= 0) {
      metrics->JournalSynced(std::chrono::steady_clock::now() - sync_started);
    }
    if (fd >= 0) env_->Close(fd);
    lock.lock();
    if (!synced) failed_ = true;
    lock.unlock();
    for (Durable& done : batch) done(synced);
    lock.lock();
  }
}

bool Journal::Write(std::span<const JournalEntry> batch, Durable done) {
  std::vector<std::byte> bytes;
  for (const JournalEntry& entry : batch) {
    const std::vector<std::byte> frame = Frame(entry);
    bytes.insert(bytes.end(), frame.begin(), frame.end());
  }
  {
    std::lock_guard lock(mu_);
    if (fd_ < 0 || failed_) return false;
    if (!env_->WriteAll(fd_, bytes)) {
      // Part of it may be in the file: cut it off, or refuse from now on.
      if (!env_->Truncate(fd_, size_)) failed_ = true;
      return false;
    }
    size_ += bytes.size();
    frames_ += batch.size();
    waiting_.push_back(std::move(done));
  }
  wake_.notify_one();
  return true;
}

bool Journal::Append(std::span<const JournalEntry> batch) {
  std::promise<bool> synced;
  std::future<bool> result = synced.get_future();
  if (!Write(batch, [&synced](bool ok) { synced.set_value(ok); })) {
    return false;
  }
  return result.get();
}

bool Journal::Rewrite(std::span<const JournalEntry> live) {
  const std::string path = PathOf(dir_);
  const std::string tmp = path + ".tmp";
  const int fd =
      env_->Open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  std::vector<std::byte> bytes;
  for (const JournalEntry& entry : live) {
    const std::vector<std::byte> frame = Frame(entry);
    bytes.insert(bytes.end(), frame.begin(), frame.end());
  }
  if (!env_->WriteAll(fd, bytes) || !env_->Sync(fd)) {
    env_->Close(fd);
    env_->Unlink(tmp);
    return false;
  }
  env_->Close(fd);
  if (!env_->Rename(tmp, path)) {
    env_->Unlink(tmp);
    return false;
  }
  env_->SyncDirectory(dir_);
  const int new_fd = env_->Open(path, O_RDWR | O_APPEND | O_CLOEXEC, 0);
  std::lock_guard lock(mu_);
  if (new_fd < 0) {
    // The rewritten file is in place; appends can no longer be made.
    env_->Close(fd_);
    fd_ = -1;
    return false;
  }
  env_->Close(fd_);
  fd_ = new_fd;
  frames_ = live.size();
  size_ = bytes.size();
  failed_ = false;  // a fresh, fsync'd file: writes can be trusted again
  return true;
}

}  // namespace crsp::node
