// The state directory's file system failing under the node (Env, as
// leveldb's fault_injection_test): a failed write or sync is answered
// STORAGE_FAILED, and every offer the node acknowledged is still in its
// journal when it starts again.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <stdexcept>

#include "crsp/node/env.h"
#include "node_harness.h"

namespace crsp::node::testing {
namespace {

using wire::Status;

// Fails what a test asks it to; everything else is the real file system.
class FaultEnv : public Env {
 public:
  std::atomic<bool> fail_sync{false};  // fsync and fdatasync
  // Writes half of the bytes, then fails as a full disk would.
  std::atomic<bool> fail_write_half_way{false};

  bool WriteAll(int fd, std::span<const std::byte> bytes) override {
    if (!fail_write_half_way) return Env::WriteAll(fd, bytes);
    Env::WriteAll(fd, bytes.first(bytes.size() / 2));
    errno = ENOSPC;
    return false;
  }
  bool Sync(int fd) override { return !fail_sync && Env::Sync(fd); }
  bool SyncData(int fd) override { return !fail_sync && Env::SyncData(fd); }
};

Status StatusOf(const protocol::DecodeResult& answer) {
  return answer.packet.header.status;
}

Status RegisterDevice(TestNode& node, uint8_t device) {
  return StatusOf(node.Send(Register(device, Device(device), {Entry(1, 10)})));
}

// Whether the node holds a live offer of `device` from its own journal: a
// withdraw finds it (the index is filled from the journal at start-up, not
// from the DHT, until a query reads it).
bool Holds(TestNode& node, uint8_t device) {
  return StatusOf(node.Send(Withdraw(100 + device, Device(device), {1}))) ==
         Status::kOk;
}

TEST(FaultInjection, AFailedSyncIsStorageFailedAndNothingAcknowledgedIsLost) {
  World world;
  FaultEnv env;
  TestNode node(world, {}, {}, &env);
  ASSERT_EQ(RegisterDevice(node, 1), Status::kOk);
  env.fail_sync = true;
  EXPECT_EQ(RegisterDevice(node, 2), Status::kStorageFailed);
  env.fail_sync = false;
  // After a failed fdatasync the kernel may have dropped written pages:
  // the journal takes nothing more until it is opened again.
  EXPECT_EQ(RegisterDevice(node, 3), Status::kStorageFailed);
  node.Restart();
  EXPECT_TRUE(Holds(node, 1));
  EXPECT_EQ(RegisterDevice(node, 4), Status::kOk);
  node.Restart();
  EXPECT_TRUE(Holds(node, 4));
}

TEST(FaultInjection, AWriteThatFailsHalfWayIsCutOffAndLaterOffersSurvive) {
  World world;
  FaultEnv env;
  TestNode node(world, {}, {}, &env);
  ASSERT_EQ(RegisterDevice(node, 1), Status::kOk);
  env.fail_write_half_way = true;
  EXPECT_EQ(RegisterDevice(node, 2), Status::kStorageFailed);
  env.fail_write_half_way = false;
  ASSERT_EQ(RegisterDevice(node, 3), Status::kOk);
  // A reader stops at the first torn frame: had the half frame stayed,
  // offer 3 (acknowledged) would be gone after a restart.
  node.Restart();
  EXPECT_EQ(node.node().offer_count(), 2u);
  EXPECT_TRUE(Holds(node, 1));
  EXPECT_TRUE(Holds(node, 3));
}

TEST(FaultInjection, ANodeKeyThatCannotBeSyncedStopsTheStartWithItsPath) {
  World world;
  FaultEnv env;
  env.fail_sync = true;
  try {
    TestNode node(world, {}, {}, &env);
    ADD_FAILURE() << "the node started without a durable key";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("node.key"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace crsp::node::testing
