#include "cluster_test_util.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace crsp::testing {

int Slowdown() {
  static const int factor = [] {
    const char* text = std::getenv("CRSP_TEST_SLOWDOWN");
    const int n = text != nullptr ? std::atoi(text) : 1;
    return std::clamp(n, 1, 10);
  }();
  return factor;
}

double WallSeconds() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<protocol::Offer> FindOffer(
    const std::vector<protocol::Offer>& offers,
    const protocol::DeviceId& device) {
  auto it = std::find_if(offers.begin(), offers.end(),
                         [&](const auto& o) { return o.device == device; });
  if (it == offers.end()) return std::nullopt;
  return *it;
}

std::optional<bool> Serves(UdpClient& client, uint16_t resource,
                           const protocol::DeviceId& device) {
  // Any answer that has the offer shows it is served; only an exact one
  // (OK) without it shows it is not.
  auto offers = QueryAll(client, resource, Answers::kWhatItHolds);
  if (offers && FindOffer(*offers, device)) return true;
  offers = QueryAll(client, resource, Answers::kExact);
  if (!offers) return std::nullopt;
  return FindOffer(*offers, device).has_value();
}

namespace {

bool AllEntriesOk(const std::optional<protocol::DecodeResult>& answer,
                  std::vector<protocol::EntryResult>* entries = nullptr) {
  if (!answer) {
    std::fprintf(stderr, "no answer\n");
    return false;
  }
  if (answer->status != wire::Status::kOk ||
      answer->packet.header.status != wire::Status::kOk) {
    std::fprintf(stderr, "answer status %d, header status %d\n",
                 static_cast<int>(answer->status),
                 static_cast<int>(answer->packet.header.status));
    return false;
  }
  const auto* results = std::visit(
      [](const auto& body) -> const protocol::EntryResults* {
        if constexpr (std::is_base_of_v<protocol::EntryResults,
                                        std::decay_t<decltype(body)>>) {
          return &body;
        }
        return nullptr;
      },
      answer->packet.body);
  if (results == nullptr) return false;
  if (entries) *entries = results->entries;
  return std::all_of(
      results->entries.begin(), results->entries.end(),
      [](const auto& e) { return e.status == wire::Status::kOk; });
}

}  // namespace

bool RegisterOk(UdpClient& client, const protocol::DeviceId& device,
                std::vector<protocol::ResourceEntry> entries, uint32_t txid,
                std::vector<protocol::EntryResult>* results) {
  return AllEntriesOk(Ask(client, Register(device, std::move(entries), txid)),
                      results);
}

bool WithdrawOk(UdpClient& client, const protocol::DeviceId& device,
                uint32_t txid) {
  return AllEntriesOk(Ask(client, Withdraw(device, {}, txid)));
}

protocol::DeviceId DeviceNumber(uint32_t n, uint8_t test_tag) {
  protocol::DeviceId id{};
  id[0] = 0xc5;
  id[1] = test_tag;
  for (int i = 0; i < 4; ++i) id[15 - i] = static_cast<uint8_t>(n >> (8 * i));
  return id;
}

}  // namespace crsp::testing
