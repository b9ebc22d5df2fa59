// `crsp decode` through the real binary against every shared test vector
// (../shared/protocol-vectors/vectors.json).
#include <gtest/gtest.h>
#include <json/json.h>

#include <fstream>
#include <sstream>
#include <string>

#include "subprocess.h"

namespace {

using crsp::testing::RunOptions;
using crsp::testing::RunProgram;
using crsp::testing::RunResult;

Json::Value ParseJson(const std::string& text) {
  Json::Value v;
  Json::CharReaderBuilder builder;
  std::string errors;
  std::istringstream in(text);
  EXPECT_TRUE(Json::parseFromStream(builder, in, &v, &errors))
      << errors << " in: " << text;
  return v;
}

Json::Value Vectors() {
  std::ifstream in(CRSP_VECTORS_JSON);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseJson(ss.str())["vectors"];
}

// The names the issue fixes for (protocol, type), spelled out here rather
// than taken from the CLI so the test checks the CLI.
std::string ProtocolName(int p) {
  static const char* names[] = {"control", "registration", "inquiry"};
  return names[p];
}
std::string TypeName(int p, int t) {
  if (p == 0) return t == 1 ? "ping_request" : "ping_answer";
  if (p == 2) return t == 1 ? "query_request" : "query_answer";
  static const char* reg[] = {"", "register_request", "register_answer",
                              "withdraw_request", "withdraw_answer"};
  return reg[t];
}
std::string StatusName(int s) {
  static const char* names[] = {"OK",
                                "MALFORMED",
                                "BAD_CHECK",
                                "UNSUPPORTED_VERSION",
                                "UNSUPPORTED_CHECK",
                                "INVALID_FIELD",
                                "NOT_AUTHORIZED",
                                "RATE_LIMITED",
                                "STORAGE_FAILED",
                                "NOT_FOUND",
                                "TOO_LARGE",
                                "INTERNAL",
                                "INCOMPLETE"};
  return names[s];
}

RunResult Decode(const std::string& hex, const RunOptions& opts = {}) {
  return RunProgram(CRSP_BINARY, {"decode", hex}, opts);
}

TEST(CrspDecode, EveryValidVectorExitsZeroWithItsListedFields) {
  int seen = 0;
  for (const auto& v : Vectors()) {
    if (v["expect"].asString() != "valid") continue;
    ++seen;
    SCOPED_TRACE(v["name"].asString());
    RunResult r = Decode(v["hex"].asString());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    Json::Value j = ParseJson(r.out);
    EXPECT_EQ(j["version"].asInt(), 1);
    EXPECT_EQ(j["protocol"].asString(), ProtocolName(v["protocol"].asInt()));
    EXPECT_EQ(j["type"].asString(),
              TypeName(v["protocol"].asInt(), v["type"].asInt()));
    EXPECT_EQ(j["txid"].asUInt(), v["txid"].asUInt());
    EXPECT_EQ(j["check_type"].asInt(), v["check_type"].asInt());
    EXPECT_EQ(j["count"].asInt(), v["count"].asInt());
    EXPECT_TRUE(j["check_ok"].asBool());
    EXPECT_EQ(j["header_length"].asInt(), 16);
    EXPECT_EQ(j["total_length"].asUInt() * 2, v["hex"].asString().size());
    int status = v.isMember("status") ? v["status"].asInt() : 0;
    EXPECT_EQ(j["status"].asString(), StatusName(status));
  }
  EXPECT_GE(seen, 14);
}

TEST(CrspDecode, EveryBadVectorExitsTwoWithItsStatusName) {
  int seen = 0;
  for (const auto& v : Vectors()) {
    std::string expect = v["expect"].asString();
    if (expect == "valid") continue;
    SCOPED_TRACE(v["name"].asString());
    RunResult r = Decode(v["hex"].asString());
    Json::Value j = ParseJson(r.out);
    if (v["name"].asString() == "validity_past") {
      // A node-side rule: the layout alone is valid.
      EXPECT_EQ(r.exit_code, 0) << r.out;
      EXPECT_EQ(j["type"].asString(), "register_request");
      continue;
    }
    ++seen;
    EXPECT_EQ(r.exit_code, 2) << r.out;
    std::string want = expect == "no_answer"
                           ? "MALFORMED"
                           : StatusName(v["answer_status"].asInt());
    EXPECT_EQ(j["error"].asString(), want);
    EXPECT_FALSE(j["detail"].asString().empty());
  }
  EXPECT_GE(seen, 8);
}

TEST(CrspDecode, RegisterBodyFieldsUseSpecNamesAndTextForms) {
  int found = 0;
  for (const auto& v : Vectors()) {
    if (v["name"].asString() != "register_signed") continue;
    ++found;
    RunResult r = Decode(v["hex"].asString());
    ASSERT_EQ(r.exit_code, 0);
    Json::Value j = ParseJson(r.out);
    EXPECT_EQ(j["device_id"].asString(), "00112233445566778899aabbccddeeff");
    EXPECT_EQ(j["device_kind"].asInt(), 1);
    EXPECT_EQ(j["currency"].asInt(), 156);
    EXPECT_EQ(j["contact_address"].asString(), "::");
    ASSERT_EQ(j["entries"].size(), 2u);
    EXPECT_EQ(j["entries"][0]["resource_id"].asInt(), 1);
    EXPECT_EQ(j["entries"][0]["billing_unit"].asInt(), 1);
    EXPECT_EQ(j["entries"][0]["quantity"].asInt(), 8);
    EXPECT_EQ(j["entries"][0]["price"].asInt(), 250);
    EXPECT_EQ(j["entries"][0]["valid_from"].asUInt64(), 1767225600u);
    EXPECT_EQ(j["entries"][1]["price"].asInt(), 12);
    EXPECT_EQ(j["signer_public_key"].asString().size(), 64u);
  }
  EXPECT_EQ(found, 1);
}

TEST(CrspDecode, QueryAnswerShowsContactAsRfc5952Text) {
  int found = 0;
  for (const auto& v : Vectors()) {
    if (v["name"].asString() != "query_answer") continue;
    ++found;
    RunResult r = Decode(v["hex"].asString());
    ASSERT_EQ(r.exit_code, 0);
    Json::Value j = ParseJson(r.out);
    EXPECT_EQ(j["total_matches"].asInt(), 1);
    EXPECT_EQ(j["next_cursor"].asInt(), 0);
    ASSERT_EQ(j["offers"].size(), 1u);
    EXPECT_EQ(j["offers"][0]["contact_address"].asString(), "2001:db8::1");
    EXPECT_EQ(j["offers"][0]["contact_port"].asInt(), 7400);
    EXPECT_EQ(j["offers"][0]["flags"].asInt(), 1);
  }
  EXPECT_EQ(found, 1);
}

TEST(CrspDecode, ReadsHexFromStandardInputIgnoringWhitespace) {
  RunOptions opts;
  opts.input = "0001 0001 0010 0014\n0000 000c 0500 0000\n2522 83bd\n";
  RunResult r = RunProgram(CRSP_BINARY, {"decode"}, opts);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  Json::Value j = ParseJson(r.out);
  EXPECT_EQ(j["type"].asString(), "ping_request");
  EXPECT_EQ(j["txid"].asInt(), 12);
}

TEST(CrspDecode, NonHexInputExitsTwoWithMalformed) {
  RunResult r = Decode("00zz");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(ParseJson(r.out)["error"].asString(), "MALFORMED");
}

}  // namespace
