// crsp/support/file.h: whole-file reads and crash-safe writes.
#include "crsp/support/file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace crsp::support {
namespace {

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "crsp-file-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  mode_t ModeOf(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  std::string dir_;
};

TEST_F(FileTest, WriteThenReadGivesTheBytesAndLeavesNoTemporary) {
  const std::string path = dir_ + "/a";
  ASSERT_TRUE(WriteFileAtomic(path, std::string("x\0y", 3), 0600).ok());
  Result<std::string> text = ReadFile(path);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, std::string("x\0y", 3));
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_F(FileTest, ReplacingKeepsTheModeUnlessOneIsGiven) {
  const std::string path = dir_ + "/device.toml";
  ASSERT_TRUE(WriteFileAtomic(path, "one", 0640).ok());
  ASSERT_TRUE(WriteFileAtomic(path, "two").ok());
  EXPECT_EQ(*ReadFile(path), "two");
  EXPECT_EQ(ModeOf(path), 0640u);
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/new", "n").ok());
  EXPECT_EQ(ModeOf(dir_ + "/new"), 0644u);
}

TEST_F(FileTest, CreateNeverReplacesAnExistingFile) {
  const std::string path = dir_ + "/node.key";
  Result<bool> first = CreateFileAtomic(path, "first", 0600);
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first);
  Result<bool> second = CreateFileAtomic(path, "second", 0600);
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);
  EXPECT_EQ(*ReadFile(path), "first");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_F(FileTest, ErrorsNameTheFile) {
  Result<std::string> missing = ReadFile(dir_ + "/none");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status().code(), Status::Code::kIoError);
  EXPECT_NE(missing.status().message().find(dir_ + "/none"), std::string::npos);
  Status s = WriteFileAtomic(dir_ + "/no/such/dir/f", "x");
  EXPECT_EQ(s.code(), Status::Code::kIoError);
  EXPECT_NE(s.message().find("/no/such/dir/f"), std::string::npos);
}

TEST(DirectoryOf, IsThePartBeforeTheLastSlash) {
  EXPECT_EQ(DirectoryOf("/a/b/c"), "/a/b");
  EXPECT_EQ(DirectoryOf("/c"), "/");
  EXPECT_EQ(DirectoryOf("c"), ".");
}

}  // namespace
}  // namespace crsp::support
