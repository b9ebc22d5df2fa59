// Durability: the journal brings offers back on restart, a torn tail is
// cut, the node key persists with mode 0600.
#include "journal.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>

#include "node_harness.h"
#include "node_key.h"

namespace crsp::node::testing {
namespace {

using wire::Status;

std::filesystem::path JournalPath(const TestNode& node) {
  return node.dir() / kJournalFile;
}

TEST(Journal, BringsOffersAndWithdrawsBackOnRestart) {
  World world;
  TestNode node(world);
  const auto key = KeyFromByte(5);
  node.Send(Register(1, Device(1), {Entry(1, 10), Entry(4, 20)}));
  node.Send(Register(7, Device(2), {Entry(1, 30)}, wire::CheckType::kEd25519),
            SourceB(), &key);
  node.Send(Withdraw(2, Device(1), {4}));
  const protocol::PublicKey node_key = node.node().public_key();
  world.dht = std::make_shared<dht::InMemoryDht>(world.clock());  // empty DHT
  node.Restart();
  EXPECT_EQ(node.node().public_key(), node_key);
  EXPECT_EQ(node.node().offer_count(), 2u);
  const auto offers = Offers(node.Send(Query(3, {Want(1), Want(4)}))).offers;
  ASSERT_EQ(offers.size(), 2u);
  EXPECT_EQ(offers[1].flags, wire::kOfferFlagSigned);
  // Re-published at start-up: both offers and the tombstone.
  EXPECT_EQ(world.dht->StoredValues(), 3u);
  // Ownership survives too: the signed device refuses another key.
  const auto other = KeyFromByte(6);
  EXPECT_EQ(node.Send(Register(8, Device(2), {Entry(1, 1)},
                               wire::CheckType::kEd25519),
                      SourceB(), &other)
                .packet.header.status,
            Status::kNotAuthorized);
}

TEST(Journal, DropsExpiredRecordsAtStartUp) {
  World world;
  TestNode node(world);
  node.Send(Register(1, Device(1), {Entry(1, 10, kStart - 1, kStart + 5)}));
  node.Send(Register(2, Device(2), {Entry(1, 10)}));
  *world.now += 10;
  node.Restart();
  EXPECT_EQ(node.node().offer_count(), 1u);
  std::vector<JournalEntry> entries;
  Journal::Open(node.dir().string(), &entries);
  EXPECT_EQ(entries.size(), 1u);
}

TEST(Journal, ToleratesATornLastRecord) {
  World world;
  TestNode node(world);
  node.Send(Register(1, Device(1), {Entry(1, 10)}));
  node.Send(Register(2, Device(2), {Entry(1, 20)}));
  node.Restart();  // compacts: one frame per offer
  const auto size = std::filesystem::file_size(JournalPath(node));
  // A crash in the middle of the second frame's write.
  std::filesystem::resize_file(JournalPath(node), size - 7);
  node.Restart();
  EXPECT_EQ(node.node().offer_count(), 1u);
  // The node goes on appending after the last good frame.
  node.Send(Register(3, Device(3), {Entry(1, 30)}));
  node.Restart();
  EXPECT_EQ(node.node().offer_count(), 2u);
}

TEST(Journal, StopsAtACorruptFrame) {
  World world;
  TestNode node(world);
  node.Send(Register(1, Device(1), {Entry(1, 10)}));
  node.Send(Register(2, Device(2), {Entry(1, 20)}));
  {
    std::fstream f(JournalPath(node),
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-3, std::ios::end);
    f.put('\x5a');
  }
  std::vector<JournalEntry> entries;
  uint64_t dropped = 0;
  Journal::Open(node.dir().string(), &entries, &dropped);
  EXPECT_EQ(entries.size(), 1u);
  EXPECT_GT(dropped, 0u);
}

TEST(Journal, RoundTripsFramesAndCompacts) {
  World world;
  TestNode node(world);  // just for a directory
  node.node().Shutdown(std::chrono::milliseconds(0));
  const std::string dir = (node.dir() / "j").string();
  std::filesystem::create_directory(dir);
  JournalEntry e;
  e.record.offer.device = Device(4);
  e.record.offer.resource = 1;
  e.record.offer.valid_until = kStart + 10;
  e.record.version = 42;
  e.source = SourceA().address;
  {
    auto j = Journal::Open(dir, nullptr);
    ASSERT_TRUE(j->Append(std::vector<JournalEntry>{e, e, e}));
    EXPECT_EQ(j->frames(), 3u);
    ASSERT_TRUE(j->Rewrite(std::vector<JournalEntry>{e}));
    ASSERT_TRUE(j->Append(std::vector<JournalEntry>{e}));
  }
  std::vector<JournalEntry> back;
  Journal::Open(dir, &back);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1], e);
}

JournalEntry EntryOf(uint8_t device, uint64_t version) {
  JournalEntry e;
  e.record.offer.device = Device(device);
  e.record.offer.resource = 1;
  e.record.offer.valid_until = kStart + 10;
  e.record.version = version;
  e.source = SourceA().address;
  return e;
}

TEST(Journal, ReportsEveryWriteDurableInWriteOrder) {
  World world;
  TestNode node(world);  // just for a directory
  node.node().Shutdown(std::chrono::milliseconds(0));
  const std::string dir = (node.dir() / "j").string();
  std::filesystem::create_directory(dir);
  constexpr int kWrites = 40;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> order;
  int synced = 0;
  {
    auto j = Journal::Open(dir, nullptr);
    // Written back to back: most of them land while a sync runs and share
    // the next one.
    for (int i = 0; i < kWrites; ++i) {
      ASSERT_TRUE(
          j->Write(std::vector<JournalEntry>{EntryOf(1, i)}, [&, i](bool ok) {
            std::lock_guard lock(mu);
            order.push_back(i);
            synced += ok;
            cv.notify_all();
          }));
    }
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10),
                            [&] { return order.size() == kWrites; }));
  }
  EXPECT_EQ(synced, kWrites);
  for (int i = 0; i < kWrites; ++i) EXPECT_EQ(order[i], i);
  std::vector<JournalEntry> back;
  Journal::Open(dir, &back);
  ASSERT_EQ(back.size(), static_cast<size_t>(kWrites));
  EXPECT_EQ(back.back(), EntryOf(1, kWrites - 1));
}

TEST(Journal, ClosingSyncsAndReportsWritesStillWaiting) {
  World world;
  TestNode node(world);
  node.node().Shutdown(std::chrono::milliseconds(0));
  const std::string dir = (node.dir() / "j").string();
  std::filesystem::create_directory(dir);
  std::atomic<int> synced{0};
  {
    auto j = Journal::Open(dir, nullptr);
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(j->Write(std::vector<JournalEntry>{EntryOf(2, i)},
                           [&synced](bool ok) { synced += ok; }));
    }
  }  // no wait: the destructor runs the last sync and its callbacks
  EXPECT_EQ(synced.load(), 5);
  std::vector<JournalEntry> back;
  Journal::Open(dir, &back);
  EXPECT_EQ(back.size(), 5u);
}

// The daemon's mode: answers come from the journal's thread, once synced
// and confirmed; the records survive a restart.
TEST(Journal, GroupCommitAnswersOnceSyncedAndKeepsOffersOverRestart) {
  World world;
  NodeConfig config;
  config.group_commit = true;
  TestNode node(world, config);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<protocol::DecodeResult> answers;
  constexpr int kRequests = 20;
  for (int i = 0; i < kRequests; ++i) {
    node.node().HandleDatagram(
        Bytes(Register(i + 1, Device(static_cast<uint8_t>(i + 1)),
                       {Entry(1, static_cast<uint32_t>(100 + i))})),
        SourceA(), [&](std::vector<std::byte> answer) {
          std::lock_guard lock(mu);
          answers.push_back(protocol::Decode(answer));
          cv.notify_all();
        });
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10),
                            [&] { return answers.size() == kRequests; }));
    for (const auto& a : answers) {
      EXPECT_EQ(a.packet.header.status, Status::kOk);
    }
  }
  world.dht = std::make_shared<dht::InMemoryDht>(world.clock());  // empty DHT
  node.Restart();
  EXPECT_EQ(node.node().offer_count(), static_cast<size_t>(kRequests));
  EXPECT_EQ(world.dht->StoredValues(), static_cast<size_t>(kRequests));
}

TEST(NodeKey, IsCreatedOnceWithMode0600) {
  World world;
  TestNode node(world);
  const auto path = node.dir() / kNodeKeyFile;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  EXPECT_EQ(LoadOrCreateNodeKey(node.dir().string()).public_key(),
            node.node().public_key());
}

TEST(NodeKey, RefusesAFileOfTheWrongSize) {
  World world;
  TestNode node(world);
  std::ofstream(node.dir() / kNodeKeyFile, std::ios::trunc) << "short";
  EXPECT_THROW(node.Restart(), std::runtime_error);
}

}  // namespace
}  // namespace crsp::node::testing
