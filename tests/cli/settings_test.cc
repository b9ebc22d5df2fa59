#include "settings.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "crsp/support/file.h"
#include "subprocess.h"

namespace crsp::cli {
namespace {

// Points XDG_CONFIG_HOME at an empty directory and clears CRSP_NODES for
// the test's duration.
class SettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("XDG_CONFIG_HOME", dir_.path().c_str(), 1);
    unsetenv("CRSP_NODES");
  }
  void TearDown() override {
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("CRSP_NODES");
  }
  void WriteConfig(const std::string& text) {
    std::string d = dir_.path() + "/crsp";
    mkdir(d.c_str(), 0700);
    ASSERT_TRUE(support::WriteFileAtomic(d + "/config.toml", text, 0600).ok());
  }
  testing::TempDir dir_;
};

TEST_F(SettingsTest, DefaultsToLocalhostPort7400CrcAndTheSpecRetries) {
  auto s = ResolveSettings({});
  ASSERT_TRUE(s) << s.status().message();
  ASSERT_EQ(s->nodes.size(), 1u);
  EXPECT_EQ(support::FormatEndpoint(s->nodes[0]), "[::1]:7400");
  EXPECT_EQ(s->check, wire::CheckType::kCrc32);
  EXPECT_EQ(s->policy.tries, 4);
  EXPECT_EQ(s->policy.first_timeout.count(), 500);
}

TEST_F(SettingsTest, ConfigFileThenEnvironmentThenFlagsTakeOver) {
  WriteConfig(
      "nodes = [\"[2001:db8::1]:7400\", \"[2001:db8::2]\"]\ncheck = "
      "\"md5\"\ntimeout_ms = 100\n");
  auto s = ResolveSettings({});
  ASSERT_TRUE(s) << s.status().message();
  ASSERT_EQ(s->nodes.size(), 2u);
  EXPECT_EQ(support::FormatEndpoint(s->nodes[1]), "[2001:db8::2]:7400");
  EXPECT_EQ(s->check, wire::CheckType::kMd5);
  EXPECT_EQ(s->policy.first_timeout.count(), 100);

  setenv("CRSP_NODES", "[::1]:7401, [::1]:7402", 1);
  s = ResolveSettings({});
  ASSERT_TRUE(s);
  ASSERT_EQ(s->nodes.size(), 2u);
  EXPECT_EQ(support::FormatEndpoint(s->nodes[0]), "[::1]:7401");

  GlobalFlags flags;
  flags.nodes = {"127.0.0.1:9"};
  flags.check = "lrc";
  s = ResolveSettings(flags);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->nodes.size(), 1u);
  EXPECT_EQ(support::FormatEndpoint(s->nodes[0]), "[::ffff:127.0.0.1]:9");
  EXPECT_EQ(s->check, wire::CheckType::kLrc);
}

TEST_F(SettingsTest, RefusesBadNodesChecksAndConfigKeys) {
  GlobalFlags flags;
  flags.nodes = {"[::1"};
  EXPECT_FALSE(ResolveSettings(flags));
  flags.nodes = {"[::1]:99999"};
  EXPECT_FALSE(ResolveSettings(flags));
  flags = {};
  flags.check = "sha256";
  support::Result<Settings> s = ResolveSettings(flags);
  EXPECT_FALSE(s);
  EXPECT_EQ(s.status().code(), support::Status::Code::kInvalidArgument);
  EXPECT_NE(s.status().message().find("sha256"), std::string::npos);
  flags = {};
  flags.config_path = dir_.path() + "/missing.toml";
  EXPECT_FALSE(ResolveSettings(flags));
  WriteConfig("nodez = []\n");
  s = ResolveSettings({});
  EXPECT_FALSE(s);
  EXPECT_NE(s.status().message().find("nodez"), std::string::npos);
}

}  // namespace
}  // namespace crsp::cli
