#include "vectors.h"

#include <gtest/gtest.h>
#include <json/json.h>

#include <algorithm>
#include <fstream>

namespace crsp::protocol::testing {
namespace {

std::optional<int64_t> IntField(const Json::Value& v, const char* name) {
  if (!v.isMember(name) || !v[name].isIntegral()) {
    return std::nullopt;
  }
  return v[name].asInt64();
}

}  // namespace

std::vector<std::byte> FromHex(const std::string& hex) {
  std::vector<std::byte> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(
        static_cast<std::byte>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::vector<Vector> LoadVectors() { return LoadVectors(CRSP_VECTORS_PATH); }

std::vector<Vector> LoadVectors(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  Json::Value root;
  Json::CharReaderBuilder builder;
  std::string errors;
  if (!Json::parseFromStream(builder, in, &root, &errors)) {
    ADD_FAILURE() << "cannot parse " << path << ": " << errors;
    return {};
  }
  std::vector<Vector> vectors;
  for (const Json::Value& v : root["vectors"]) {
    Vector vec;
    vec.name = v["name"].asString();
    vec.bytes = FromHex(v["hex"].asString());
    vec.expect = v["expect"].asString();
    vec.protocol = IntField(v, "protocol");
    vec.type = IntField(v, "type");
    vec.txid = IntField(v, "txid");
    vec.check_type = IntField(v, "check_type");
    vec.count = IntField(v, "count");
    vec.status = IntField(v, "status");
    vec.answer_status = IntField(v, "answer_status");
    vec.decode_status = IntField(v, "decode_status");
    if (v.isMember("ed25519_seed")) {
      std::vector<std::byte> seed = FromHex(v["ed25519_seed"].asString());
      if (seed.size() == wire::kEd25519SeedSize) {
        vec.seed.emplace();
        std::transform(seed.begin(), seed.end(), vec.seed->begin(),
                       [](std::byte b) { return static_cast<uint8_t>(b); });
      }
    }
    vectors.push_back(std::move(vec));
  }
  EXPECT_FALSE(vectors.empty());
  return vectors;
}

}  // namespace crsp::protocol::testing
