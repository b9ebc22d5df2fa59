#include "keyfile.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "crsp/support/file.h"
#include "subprocess.h"
#include "txid_counter.h"

namespace crsp::cli {
namespace {

// Cheap Argon2 costs keep the test fast; the format stores them.
constexpr KdfParams kFast{1, 64, 1};

protocol::Ed25519Key TestKey() {
  protocol::Ed25519Seed seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(i);
  return *protocol::Ed25519Key::FromSeed(seed);
}

TEST(KeyFile, SealThenOpenGivesBackTheSameKey) {
  auto key = TestKey();
  std::string err;
  auto file = SealKey(key, "correct horse", kFast, &err);
  ASSERT_TRUE(file) << err;
  EXPECT_EQ(file->size(), kKeyFileSize);
  OpenKeyError why;
  auto opened = OpenKey(*file, "correct horse", &why);
  ASSERT_TRUE(opened);
  EXPECT_EQ(why, OpenKeyError::kNone);
  EXPECT_EQ(opened->seed(), key.seed());
  EXPECT_EQ(opened->public_key(), key.public_key());
  EXPECT_EQ(KeyFilePublicKey(*file), key.public_key());
}

TEST(KeyFile, DefaultCostsAlsoRoundTrip) {
  auto key = TestKey();
  std::string err;
  auto file = SealKey(key, "pw", KdfParams{}, &err);
  ASSERT_TRUE(file) << err;
  OpenKeyError why;
  EXPECT_TRUE(OpenKey(*file, "pw", &why));
}

TEST(KeyFile, WrongPassphraseIsRefused) {
  std::string err;
  auto file = SealKey(TestKey(), "right", kFast, &err);
  ASSERT_TRUE(file);
  OpenKeyError why;
  EXPECT_FALSE(OpenKey(*file, "wrong", &why));
  EXPECT_EQ(why, OpenKeyError::kWrongPassphrase);
}

TEST(KeyFile, SealingTwiceUsesFreshSaltAndNonce) {
  std::string err;
  auto a = SealKey(TestKey(), "pw", kFast, &err);
  auto b = SealKey(TestKey(), "pw", kFast, &err);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
}

TEST(KeyFile, AnyChangedByteIsRefused) {
  std::string err;
  auto file = SealKey(TestKey(), "pw", kFast, &err);
  ASSERT_TRUE(file);
  // The header is associated data, so every byte counts.
  for (size_t i = 0; i < file->size(); ++i) {
    auto bad = *file;
    bad[i] ^= 0x01;
    OpenKeyError why;
    EXPECT_FALSE(OpenKey(bad, "pw", &why)) << "byte " << i;
  }
  OpenKeyError why;
  EXPECT_FALSE(OpenKey(std::span(file->data(), file->size() - 1), "pw", &why));
  EXPECT_EQ(why, OpenKeyError::kFormat);
}

TEST(KeyFile, AbsurdCostsInAFileAreRefusedBeforeDeriving) {
  std::string err;
  auto file = SealKey(TestKey(), "pw", kFast, &err);
  ASSERT_TRUE(file);
  (*file)[16] = 0xFF;  // m_cost: gigabytes
  OpenKeyError why;
  EXPECT_FALSE(OpenKey(*file, "pw", &why));
  EXPECT_EQ(why, OpenKeyError::kFormat);
}

TEST(WriteKeyFiles, WritesAPrivateFileAndRefusesToOverwrite) {
  testing::TempDir dir;
  std::string path = dir.path() + "/seller.key";
  support::Status written = WriteKeyFiles(path, TestKey(), "pw", kFast);
  ASSERT_TRUE(written.ok()) << written.message();
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto pub = support::ReadFile(path + ".pub");
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->size(), 65u);
  written = WriteKeyFiles(path, TestKey(), "pw", kFast);
  EXPECT_EQ(written.code(), support::Status::Code::kIoError);
  EXPECT_NE(written.message().find("exists"), std::string::npos);
}

TEST(NextSignedTxid, IsTheClockOrOneMoreThanTheLastUsed) {
  testing::TempDir dir;
  std::string key = dir.path() + "/k";
  EXPECT_EQ(*NextSignedTxid(key, 1000), 1000u);
  EXPECT_EQ(*NextSignedTxid(key, 1000), 1001u);
  EXPECT_EQ(*NextSignedTxid(key, 900), 1002u);  // clock went back
  EXPECT_EQ(*NextSignedTxid(key, 5000), 5000u);
  auto text = support::ReadFile(TxidCounterPath(key));
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "5000\n");
}

TEST(NextSignedTxid, RefusesADamagedCounterAndExhaustion) {
  testing::TempDir dir;
  std::string key = dir.path() + "/k";
  ASSERT_TRUE(
      support::WriteFileAtomic(TxidCounterPath(key), "12x\n", 0600).ok());
  EXPECT_FALSE(NextSignedTxid(key, 1000));
  ASSERT_TRUE(
      support::WriteFileAtomic(TxidCounterPath(key), "4294967295\n", 0600)
          .ok());
  EXPECT_FALSE(NextSignedTxid(key, 1000));
}

}  // namespace
}  // namespace crsp::cli
