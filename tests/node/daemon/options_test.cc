// crsp-node's flags and TOML config file (node/src/daemon/options.h).
#include "options.h"

#include <gtest/gtest.h>

#include <fstream>

#include "node_process.h"

namespace crsp::node {
namespace {

ParsedOptions Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "crsp-node");
  return ParseOptions(static_cast<int>(args.size()), args.data());
}

TEST(NodeOptions, NoFlagsGiveTheEmbeddedDefaults) {
  ParsedOptions o = Parse({});
  ASSERT_FALSE(o.exit_now) << o.message;
  EXPECT_EQ(o.config.listen, "[::]:7400");
  EXPECT_EQ(o.config.dht_port, 4222);
  EXPECT_TRUE(o.config.bootstrap.empty());
  EXPECT_FALSE(o.config.require_signed);
  EXPECT_FALSE(o.config.state_dir.empty());
}

TEST(NodeOptions, FlagsSetEverySetting) {
  ParsedOptions o = Parse(
      {"--listen", "[::1]:9000", "--dht-port", "5000", "--bootstrap",
       "[fd00::1]:4222", "--bootstrap", "10.0.0.1:4222", "--state-dir",
       "/tmp/x", "--require-signed", "--log-level", "debug", "--answer-budget",
       "1000", "--offers-per-device", "3", "--max-pending-writes", "64"});
  ASSERT_FALSE(o.exit_now) << o.message;
  EXPECT_EQ(o.config.listen, "[::1]:9000");
  EXPECT_EQ(o.config.dht_port, 5000);
  EXPECT_EQ(o.config.bootstrap,
            (std::vector<std::string>{"[fd00::1]:4222", "10.0.0.1:4222"}));
  EXPECT_EQ(o.config.state_dir, "/tmp/x");
  EXPECT_TRUE(o.config.require_signed);
  EXPECT_EQ(o.config.log_level, "debug");
  EXPECT_EQ(o.config.limits.answer_bytes_per_sec, 1000u);
  EXPECT_EQ(o.config.limits.offers_per_device, 3u);
  EXPECT_EQ(o.config.limits.max_pending_writes, 64u);
  EXPECT_TRUE(o.config.group_commit);
}

TEST(NodeOptions, ConfigFileIsReadAndFlagsOverrideIt) {
  testing::TempDir dir;
  std::string path = dir.path() + "/node.toml";
  std::ofstream(path) << "listen = \"[::1]:7500\"\n"
                         "dht_port = 4300\n"
                         "bootstrap = [\"[::1]:4222\"]\n"
                         "require_signed = true\n"
                         "[limits]\n"
                         "offers_per_source = 12\n"
                         "max_pending_writes = 100\n";
  ParsedOptions o = Parse({"--config", path.c_str(), "--dht-port", "4400"});
  ASSERT_FALSE(o.exit_now) << o.message;
  EXPECT_EQ(o.config.listen, "[::1]:7500");
  EXPECT_EQ(o.config.dht_port, 4400);
  EXPECT_EQ(o.config.bootstrap, std::vector<std::string>{"[::1]:4222"});
  EXPECT_TRUE(o.config.require_signed);
  EXPECT_EQ(o.config.limits.offers_per_source, 12u);
  EXPECT_EQ(o.config.limits.max_pending_writes, 100u);
}

TEST(NodeOptions, BrokenConfigFileIsAUsageErrorNamingTheProblem) {
  testing::TempDir dir;
  std::string path = dir.path() + "/node.toml";
  std::ofstream(path) << "dht_port = \"not a number\"\n";
  ParsedOptions o = Parse({"--config", path.c_str()});
  EXPECT_TRUE(o.exit_now);
  EXPECT_NE(o.exit_code, 0);
  EXPECT_NE(o.message.find("dht_port"), std::string::npos) << o.message;
}

TEST(NodeOptions, UnknownFlagIsAUsageError) {
  ParsedOptions o = Parse({"--no-such-flag"});
  EXPECT_TRUE(o.exit_now);
  EXPECT_NE(o.exit_code, 0);
}

TEST(NodeOptions, HelpDocumentsEveryFlag) {
  ParsedOptions o = Parse({"--help"});
  EXPECT_TRUE(o.exit_now);
  EXPECT_EQ(o.exit_code, 0);
  for (const char* flag :
       {"--listen", "--dht-port", "--bootstrap", "--state-dir",
        "--require-signed", "--log-level", "--config", "--answer-budget",
        "--answer-burst", "--offers-per-source", "--offers-per-device",
        "--max-offers", "--max-pending-writes", "--dht-max-req-per-sec",
        "--dht-max-peer-req-per-sec"}) {
    EXPECT_NE(o.message.find(flag), std::string::npos) << flag;
  }
}

TEST(NodeOptions, MetricsAreOffUnlessTheFlagOrTheFileSetsThem) {
  EXPECT_EQ(Parse({}).config.metrics_listen, "");
  EXPECT_EQ(Parse({"--metrics", "127.0.0.1:9474"}).config.metrics_listen,
            "127.0.0.1:9474");
  testing::TempDir dir;
  std::string path = dir.path() + "/node.toml";
  std::ofstream(path) << "metrics = \"127.0.0.1:9500\"\n";
  EXPECT_EQ(Parse({"--config", path.c_str()}).config.metrics_listen,
            "127.0.0.1:9500");
  EXPECT_EQ(Parse({"--config", path.c_str(), "--metrics", "127.0.0.1:9600"})
                .config.metrics_listen,
            "127.0.0.1:9600");
  EXPECT_NE(Parse({"--help"}).message.find("--metrics"), std::string::npos);
}

}  // namespace
}  // namespace crsp::node
