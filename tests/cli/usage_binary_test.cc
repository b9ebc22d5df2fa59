// The real `crsp` binary without a live node: usage errors, help, "no node
// answered" against a closed port on [::1], key files and passphrases.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "subprocess.h"

namespace {

using crsp::testing::RunOptions;
using crsp::testing::RunProgram;
using crsp::testing::RunResult;
using crsp::testing::TempDir;
using std::chrono::milliseconds;

RunResult Crsp(const std::vector<std::string>& args, RunOptions opts = {}) {
  // Tests never read the developer's config or node list.
  opts.unset_env.push_back("CRSP_NODES");
  opts.unset_env.push_back("CRSP_PASSPHRASE");
  opts.env.push_back("XDG_CONFIG_HOME=/nonexistent");
  return RunProgram(CRSP_BINARY, args, opts);
}

// "[::1]:PORT" of a UDP port that nothing listens on (bound, then closed).
std::string ClosedPort() {
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return "[::1]:" + std::to_string(ntohs(a.sin6_port));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr char kDeviceFile[] = R"(kind = "printer"
currency = "CNY"
# device = "..."
[[resource]]
type = "print"
price = "0.10/page"
quantity = 500
from = "+0h"
until = "+8h"
)";

TEST(CrspUsage, HelpExitsZeroAndDocumentsExitCodes) {
  RunResult r = Crsp({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos);
  EXPECT_NE(r.out.find("69 no node answered"), std::string::npos);
  for (const char* cmd :
       {"register", "withdraw", "query", "ping", "nodes", "keygen", "decode"}) {
    EXPECT_NE(r.out.find(cmd), std::string::npos) << cmd;
    EXPECT_EQ(Crsp({cmd, "--help"}).exit_code, 0) << cmd;
  }
}

TEST(CrspUsage, UsageErrorsExit64WithOneLineOnStderr) {
  std::vector<std::vector<std::string>> cases = {
      {},
      {"--frobnicate", "ping"},
      {"frobnicate"},
      {"query"},
      {"query", "gpu"},
      {"query", "cpu", "--max-price", "cheap"},
      {"--check", "sha1", "ping"},
      {"--node", "[::1", "ping"},
      {"register"},
      {"register", "--resource", "cpu", "--price", "1/hour"},
      {"withdraw"},
      {"withdraw", "--device", "1234"},
      {"keygen"},
  };
  for (const auto& args : cases) {
    RunResult r = Crsp(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.exit_code, 64) << joined << "\n" << r.err;
    EXPECT_NE(r.err.find("crsp: "), std::string::npos) << joined;
    EXPECT_TRUE(r.out.empty()) << joined;
  }
}

TEST(CrspUsage, BadDeviceFileExits64NamingTheProblem) {
  TempDir dir;
  std::string path = dir.path() + "/bad.toml";
  std::ofstream(path) << "kind = \"printer\"\ncurrency = \"CNY\"\n";
  RunResult r = Crsp({"--node", ClosedPort(), "register", path});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("[[resource]]"), std::string::npos) << r.err;
}

TEST(CrspUsage, MissingDeviceFileIsALocalFailure) {
  RunResult r = Crsp({"register", "/nonexistent/device.toml"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/device.toml"), std::string::npos);
}

TEST(CrspNoNode, EveryNetworkCommandExits69QuicklyOnAClosedPort) {
  TempDir dir;
  std::string file = dir.path() + "/printer.toml";
  std::ofstream(file) << kDeviceFile;
  std::vector<std::vector<std::string>> cases = {
      {"ping"},
      {"nodes", "--json"},
      {"query", "cpu"},
      {"register", file},
      {"withdraw", "--device", "00112233445566778899aabbccddeeff"},
  };
  for (auto args : cases) {
    args.insert(args.begin(), {"--node", ClosedPort()});
    RunResult r = Crsp(args);
    EXPECT_EQ(r.exit_code, 69) << args[2] << ": " << r.err;
    EXPECT_NE(r.err.find("no node answered"), std::string::npos) << r.err;
    EXPECT_LT(r.elapsed, milliseconds(5000));
  }
  // No node stored anything: the device file is left as it was.
  EXPECT_EQ(ReadFile(file), kDeviceFile);
}

TEST(CrspNoNode, FailsOverAcrossSeveralDeadNodesThenExits69) {
  RunResult r = Crsp({"--node", ClosedPort(), "--node", ClosedPort(),
                      "--timeout-ms", "50", "--tries", "2", "query", "cpu"});
  EXPECT_EQ(r.exit_code, 69);
  EXPECT_LT(r.elapsed, milliseconds(5000));
}

TEST(CrspKeys, KeygenWritesAKeyThatOnlyTheRightPassphraseOpens) {
  TempDir dir;
  std::string key = dir.path() + "/seller.key";
  RunOptions with_pw;
  with_pw.env = {"CRSP_PASSPHRASE=open sesame"};
  with_pw.unset_env = {"CRSP_PASSPHRASE"};
  RunResult r = RunProgram(CRSP_BINARY, {"keygen", "--out", key}, with_pw);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string pub = ReadFile(key + ".pub");
  ASSERT_EQ(pub.size(), 65u);
  EXPECT_NE(r.out.find(pub.substr(0, 64)), std::string::npos);

  // A second keygen to the same file is refused.
  r = RunProgram(CRSP_BINARY, {"keygen", "--out", key}, with_pw);
  EXPECT_EQ(r.exit_code, 1);

  // Wrong passphrase (environment): refused before any packet is sent.
  RunOptions wrong;
  wrong.env = {"CRSP_PASSPHRASE=open barley", "XDG_CONFIG_HOME=/nonexistent"};
  r = RunProgram(CRSP_BINARY,
                 {"--node", ClosedPort(), "withdraw", "--device",
                  "00112233445566778899aabbccddeeff", "--key", key},
                 wrong);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("wrong passphrase"), std::string::npos) << r.err;

  // Right passphrase from a file: the key opens, then no node answers.
  std::string pwfile = dir.path() + "/pw";
  std::ofstream(pwfile) << "open sesame\n";
  r = RunProgram(CRSP_BINARY,
                 {"--node", ClosedPort(), "withdraw", "--device",
                  "00112233445566778899aabbccddeeff", "--key", key,
                  "--passphrase-file", pwfile},
                 wrong);  // the file wins over the environment
  EXPECT_EQ(r.exit_code, 69) << r.err;
}

}  // namespace
