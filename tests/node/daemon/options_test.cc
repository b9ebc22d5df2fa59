// crsp-node's flags and TOML config file (node/src/daemon/options.h), both
// read through the one table of settings (settings.h): every setting's
// bounds are tested both ways.
#include "options.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "node_process.h"
#include "settings.h"

namespace crsp::node {
namespace {

ParsedOptions Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "crsp-node");
  return ParseOptions(static_cast<int>(args.size()), args.data());
}

ParsedOptions ParseStrings(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  return Parse(argv);
}

// A config file holding `toml`, in a directory removed after the test.
class ConfigFile {
 public:
  explicit ConfigFile(const std::string& toml)
      : path_(dir_.path() + "/node.toml") {
    std::ofstream(path_) << toml;
  }
  const std::string& path() const { return path_; }

 private:
  testing::TempDir dir_;
  std::string path_;
};

// `key = value` as a TOML document, in the [limits] table for limits.
std::string TomlFor(const Setting& setting, const std::string& value) {
  std::string_view key = setting.key;
  if (key.starts_with("limits.")) {
    return "[limits]\n" + std::string(key.substr(7)) + " = " + value + "\n";
  }
  return std::string(key) + " = " + value + "\n";
}

ParsedOptions ParseFile(const std::string& toml) {
  ConfigFile file(toml);
  return ParseStrings({"--config", file.path()});
}

TEST(NodeOptions, NoFlagsGiveTheEmbeddedDefaults) {
  ParsedOptions o = Parse({});
  ASSERT_FALSE(o.exit_now) << o.status.message();
  EXPECT_EQ(o.config.listen, "[::]:7400");
  EXPECT_EQ(o.config.dht_port, 4222);
  EXPECT_TRUE(o.config.bootstrap.empty());
  EXPECT_FALSE(o.config.require_signed);
  EXPECT_FALSE(o.config.state_dir.empty());
  EXPECT_TRUE(o.config.metrics_listen.empty());
}

TEST(NodeOptions, FlagsSetEverySetting) {
  ParsedOptions o = Parse({"--listen",
                           "[::1]:9000",
                           "--dht-port",
                           "5000",
                           "--bootstrap",
                           "[fd00::1]:4222",
                           "--bootstrap",
                           "10.0.0.1:4222",
                           "--state-dir",
                           "/tmp/x",
                           "--require-signed",
                           "--log-level",
                           "debug",
                           "--answer-budget",
                           "1000",
                           "--offers-per-device",
                           "3",
                           "--max-pending-writes",
                           "64",
                           "--metrics",
                           "[::1]:9100"});
  ASSERT_FALSE(o.exit_now) << o.status.message();
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
  EXPECT_EQ(o.config.metrics_listen, "[::1]:9100");
  EXPECT_TRUE(o.config.group_commit);
}

TEST(NodeOptions, ConfigFileIsReadAndFlagsOverrideIt) {
  ConfigFile file(
      "listen = \"[::1]:7500\"\n"
      "dht_port = 4300\n"
      "bootstrap = [\"[::1]:4222\"]\n"
      "require_signed = true\n"
      "metrics = \"[::1]:9100\"\n"
      "[limits]\n"
      "offers_per_source = 12\n"
      "max_pending_writes = 100\n");
  ParsedOptions o =
      ParseStrings({"--config", file.path(), "--dht-port", "4400"});
  ASSERT_FALSE(o.exit_now) << o.status.message();
  EXPECT_EQ(o.config.listen, "[::1]:7500");
  EXPECT_EQ(o.config.dht_port, 4400);
  EXPECT_EQ(o.config.bootstrap, std::vector<std::string>{"[::1]:4222"});
  EXPECT_TRUE(o.config.require_signed);
  EXPECT_EQ(o.config.metrics_listen, "[::1]:9100");
  EXPECT_EQ(o.config.limits.offers_per_source, 12u);
  EXPECT_EQ(o.config.limits.max_pending_writes, 100u);
}

TEST(NodeOptions, WrongTypeInTheFileNamesFileLineAndSetting) {
  ConfigFile file("# a node\ndht_port = \"not a number\"\n");
  ParsedOptions o = ParseStrings({"--config", file.path()});
  EXPECT_TRUE(o.exit_now);
  EXPECT_EQ(o.exit_code(), 64);
  EXPECT_EQ(o.status.message(), file.path() + ":2: dht_port: want an integer");
}

// The bug of issue 15: these were wrapped to 4464 and 4294967295.
TEST(NodeOptions, OutOfRangeValuesInTheFileAreRefusedNotWrapped) {
  ConfigFile port("dht_port = 70000\n");
  ParsedOptions o = ParseStrings({"--config", port.path()});
  EXPECT_TRUE(o.exit_now);
  EXPECT_EQ(o.exit_code(), 64);
  EXPECT_EQ(o.status.message(),
            port.path() + ":1: dht_port: 70000 is out of range 0..65535");

  ConfigFile budget("[limits]\nanswer_bytes_per_sec = -1\n");
  o = ParseStrings({"--config", budget.path()});
  EXPECT_TRUE(o.exit_now);
  EXPECT_EQ(o.status.message(),
            budget.path() +
                ":2: limits.answer_bytes_per_sec: -1 is out of range "
                "1..4294967295");
}

TEST(NodeOptions, UnknownSettingInTheFileIsAnErrorNamingIt) {
  for (const char* toml : {"dht_prot = 4222\n", "[limits]\nmax_offer = 10\n",
                           "[limit]\n", "[limits.x]\n"}) {
    ParsedOptions o = ParseFile(toml);
    EXPECT_TRUE(o.exit_now) << toml;
    EXPECT_EQ(o.exit_code(), 64) << toml;
    EXPECT_NE(o.status.message().find("unknown setting"), std::string::npos)
        << o.status.message();
  }
  ParsedOptions o = ParseFile("\n\ndht_prot = 4222\n");
  EXPECT_NE(o.status.message().find(":3: unknown setting 'dht_prot'"),
            std::string::npos)
      << o.status.message();
}

TEST(NodeOptions, TomlSyntaxErrorNamesFileAndLine) {
  ConfigFile file("listen = \"[::1]:7500\"\ndht_port = = 3\n");
  ParsedOptions o = ParseStrings({"--config", file.path()});
  EXPECT_EQ(o.exit_code(), 64);
  EXPECT_EQ(o.status.message().rfind(file.path() + ":2: ", 0), 0u)
      << o.status.message();
}

// Every integer setting: both ends of its range are taken and one past
// each end is refused, by flag and by file alike.
TEST(NodeOptions, EveryIntegerSettingHasItsBoundsCheckedBothWays) {
  int checked = 0;
  for (const Setting& s : NodeSettings()) {
    if (s.type != SettingType::kInteger) continue;
    ++checked;
    const std::string flag(s.flag);
    for (int64_t v : {s.min, s.max}) {
      const std::string text = std::to_string(v);
      ParsedOptions by_flag = ParseStrings({flag, text});
      ASSERT_FALSE(by_flag.exit_now)
          << flag << " " << text << ": " << by_flag.status.message();
      EXPECT_EQ(std::get<int64_t>(s.get(by_flag.config)), v) << flag;
      ParsedOptions by_file = ParseFile(TomlFor(s, text));
      ASSERT_FALSE(by_file.exit_now)
          << s.key << " = " << text << ": " << by_file.status.message();
      EXPECT_EQ(std::get<int64_t>(s.get(by_file.config)), v) << s.key;
    }
    for (int64_t v : {s.min - 1, s.max + 1}) {
      const std::string text = std::to_string(v);
      const std::string why = text + " is out of range " + SettingRangeText(s);
      ParsedOptions by_flag = ParseStrings({flag, text});
      EXPECT_TRUE(by_flag.exit_now) << flag << " " << text;
      EXPECT_EQ(by_flag.exit_code(), 64);
      EXPECT_EQ(by_flag.status.message(), flag + ": " + why);
      ParsedOptions by_file = ParseFile(TomlFor(s, text));
      EXPECT_TRUE(by_file.exit_now) << s.key << " = " << text;
      EXPECT_EQ(by_file.exit_code(), 64);
      EXPECT_NE(by_file.status.message().find(std::string(s.key) + ": " + why),
                std::string::npos)
          << by_file.status.message();
    }
    // Not a number at all.
    EXPECT_TRUE(ParseStrings({flag, "12x"}).exit_now) << flag;
    EXPECT_TRUE(ParseFile(TomlFor(s, "\"12\"")).exit_now) << s.key;
    EXPECT_TRUE(ParseFile(TomlFor(s, "1.5")).exit_now) << s.key;
  }
  EXPECT_EQ(checked, 11);
}

// The settings that are not integers: a good value and bad ones, by flag
// and by file.
struct TextCase {
  std::string key;
  std::vector<std::string> good;  // flag text; quoted for the file
  std::vector<std::string> bad;
};

TEST(NodeOptions, EveryOtherSettingIsCheckedBothWays) {
  const std::vector<TextCase> cases = {
      {"listen",
       {"[::1]:7400", "[::]:0", "127.0.0.1:7400", "*:7400"},
       {"", "[::1]", "[::1]:65536", "::1:7400", "host:7400", "[::1]:x"}},
      {"metrics", {"[::1]:9100", ""}, {"[::1]", "9100", "[::1]:70000"}},
      {"bootstrap",
       {"[fd00::1]:4222", "peer.example:4222", "10.0.0.1:4222"},
       {"[fd00::1]:0", "[fd00::1:4222", ":4222", "peer:99999"}},
      {"state_dir", {"/tmp/x"}, {""}},
      {"log_level",
       {"trace", "debug", "info", "warn", "error", "off"},
       {"verbose", "INFO", ""}},
  };
  for (const TextCase& c : cases) {
    const Setting* s = FindSetting(c.key);
    ASSERT_NE(s, nullptr) << c.key;
    const std::string flag(s->flag);
    auto quoted = [&](const std::string& v) {
      return s->type == SettingType::kPeerList ? "[\"" + v + "\"]"
                                               : "\"" + v + "\"";
    };
    for (const std::string& v : c.good) {
      ParsedOptions by_flag = ParseStrings({flag, v});
      EXPECT_FALSE(by_flag.exit_now)
          << flag << " '" << v << "': " << by_flag.status.message();
      ParsedOptions by_file = ParseFile(TomlFor(*s, quoted(v)));
      EXPECT_FALSE(by_file.exit_now)
          << c.key << " '" << v << "': " << by_file.status.message();
    }
    for (const std::string& v : c.bad) {
      ParsedOptions by_flag = ParseStrings({flag, v});
      EXPECT_TRUE(by_flag.exit_now) << flag << " '" << v << "'";
      EXPECT_EQ(by_flag.exit_code(), 64) << flag << " '" << v << "'";
      EXPECT_EQ(by_flag.status.message().rfind(flag + ": ", 0), 0u)
          << by_flag.status.message();
      ParsedOptions by_file = ParseFile(TomlFor(*s, quoted(v)));
      EXPECT_TRUE(by_file.exit_now) << c.key << " '" << v << "'";
      EXPECT_NE(by_file.status.message().find(":1: " + c.key + ": "),
                std::string::npos)
          << by_file.status.message();
    }
    // A number where text is wanted.
    EXPECT_TRUE(ParseFile(TomlFor(*s, "7")).exit_now) << c.key;
  }
}

TEST(NodeOptions, RequireSignedIsABooleanBothWays) {
  EXPECT_TRUE(Parse({"--require-signed"}).config.require_signed);
  EXPECT_TRUE(ParseFile("require_signed = true\n").config.require_signed);
  EXPECT_FALSE(ParseFile("require_signed = false\n").config.require_signed);
  for (const char* bad :
       {"require_signed = 1\n", "require_signed = \"yes\"\n"}) {
    ParsedOptions o = ParseFile(bad);
    EXPECT_TRUE(o.exit_now) << bad;
    EXPECT_NE(o.status.message().find("require_signed: want true or false"),
              std::string::npos)
        << o.status.message();
  }
}

TEST(NodeOptions, CheckConfigSaysOkOrWhatIsWrongAndExits) {
  ConfigFile good("dht_port = 4300\n[limits]\nmax_offers = 5\n");
  ParsedOptions o = ParseStrings({"--check-config", good.path()});
  EXPECT_TRUE(o.exit_now);
  EXPECT_EQ(o.exit_code(), 0);
  EXPECT_EQ(o.output, good.path() + ": ok\n");

  ConfigFile bad("dht_port = 4300\n[limits]\nmax_offers = 0\n");
  o = ParseStrings({"--check-config", bad.path()});
  EXPECT_TRUE(o.exit_now);
  EXPECT_EQ(o.exit_code(), 64);
  EXPECT_EQ(
      o.status.message(),
      bad.path() + ":3: limits.max_offers: 0 is out of range 1..4294967295");
}

TEST(NodeOptions, UnknownFlagIsAUsageError) {
  ParsedOptions o = Parse({"--no-such-flag"});
  EXPECT_TRUE(o.exit_now);
  EXPECT_EQ(o.exit_code(), 64);
}

TEST(NodeOptions, HelpDocumentsEverySettingWithItsRange) {
  ParsedOptions o = Parse({"--help"});
  EXPECT_TRUE(o.exit_now);
  EXPECT_EQ(o.exit_code(), 0);
  for (const char* flag : {"--config", "--check-config", "--version"}) {
    EXPECT_NE(o.output.find(flag), std::string::npos) << flag;
  }
  for (const Setting& s : NodeSettings()) {
    EXPECT_NE(o.output.find(std::string(s.flag)), std::string::npos) << s.flag;
    if (s.type == SettingType::kInteger) {
      EXPECT_NE(o.output.find(SettingRangeText(s)), std::string::npos)
          << s.flag;
    }
  }
}

TEST(NodeOptions, VersionNamesTheProgramAndTheCommit) {
  ParsedOptions o = Parse({"--version"});
  EXPECT_TRUE(o.exit_now);
  EXPECT_EQ(o.exit_code(), 0);
  EXPECT_EQ(o.output.rfind("crsp-node 0.", 0), 0u) << o.output;
  EXPECT_NE(o.output.find("(git "), std::string::npos) << o.output;
}

// docs/node.md "Settings" is the reference for the file's keys: it must
// name every setting of the table, by key and by flag.
TEST(NodeOptions, DocsNameEverySetting) {
  std::ifstream in(CRSP_NODE_DOC);
  ASSERT_TRUE(in) << CRSP_NODE_DOC;
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  for (const Setting& s : NodeSettings()) {
    EXPECT_NE(doc.find("| `" + std::string(s.key) + "` | `" +
                       std::string(s.flag) + "` |"),
              std::string::npos)
        << s.key;
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
  EXPECT_NE(Parse({"--help"}).output.find("--metrics"), std::string::npos);
}

}  // namespace
}  // namespace crsp::node
