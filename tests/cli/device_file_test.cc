#include "device_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "crsp/support/hex.h"
#include "subprocess.h"

namespace crsp::cli {
namespace {

constexpr uint64_t kNow = 1767225600;

// The example of issue 4, as written.
constexpr char kIssueExample[] =
    R"(kind = "printer"            # computer, printer, car, radio, other
currency = "CNY"            # ISO 4217 code
# device = "..."            # written back on first register when absent
# contact = "[2001:db8::5]:9000"   # default: the request's source

[[resource]]
type = "print"              # the spec's resource names: cpu, memory, print, car-rental, ...
price = "0.10/page"         # major units / billing unit
quantity = 500
from = "+0h"                # ISO 8601, or relative to now
until = "+8h"
)";

TEST(ParseDeviceFile, ReadsTheIssueExampleAsWritten) {
  auto f = ParseDeviceFile(kIssueExample, kNow);
  ASSERT_TRUE(f) << f.status().message();
  EXPECT_FALSE(f->device.has_value());
  EXPECT_EQ(f->request.set.device_kind, 2);
  EXPECT_EQ(f->request.set.currency, 156);
  EXPECT_EQ(f->request.set.contact, protocol::Ipv6Address{});
  EXPECT_EQ(f->request.set.contact_port, 0);
  ASSERT_EQ(f->request.entries.size(), 1u);
  const auto& e = f->request.entries[0];
  EXPECT_EQ(e.resource, wire::kResourcePrint);
  EXPECT_EQ(e.unit, static_cast<uint8_t>(wire::BillingUnit::kPerPage));
  EXPECT_EQ(e.price, 10u);
  EXPECT_EQ(e.quantity, 500u);
  EXPECT_EQ(e.valid_from, kNow);
  EXPECT_EQ(e.valid_until, kNow + 8 * 3600);
}

TEST(ParseDeviceFile, ReadsDeviceContactAndSeveralResources) {
  auto f = ParseDeviceFile(R"(kind = "computer"
currency = "USD"
device = "00112233-4455-6677-8899-aabbccddeeff"
contact = "[2001:db8::5]:9000"
[[resource]]
type = "cpu"
price = "2.50/hour"
quantity = 8
until = "2026-01-02T00:00:00Z"
[[resource]]
type = "memory"
price = "0.12"
unit = "gib-hour"
quantity = 16
from = "+1h"
until = "+2d"
)",
                           kNow);
  ASSERT_TRUE(f) << f.status().message();
  ASSERT_TRUE(f->device);
  EXPECT_EQ(support::ToHex(*f->device), "00112233445566778899aabbccddeeff");
  EXPECT_EQ(f->request.set.contact_port, 9000);
  EXPECT_EQ(f->request.set.contact[15], 5);
  EXPECT_EQ(f->request.set.currency, 840);
  ASSERT_EQ(f->request.entries.size(), 2u);
  EXPECT_EQ(f->request.entries[0].valid_from, kNow);  // from defaults to now
  EXPECT_EQ(f->request.entries[0].valid_until, kNow + 86400);
  EXPECT_EQ(f->request.entries[1].unit,
            static_cast<uint8_t>(wire::BillingUnit::kPerGibHour));
  EXPECT_EQ(f->request.entries[1].price, 12u);
}

TEST(ParseDeviceFile, NamesTheProblemInBadFiles) {
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"kind = \"toaster\"\ncurrency = \"CNY\"\n", "toaster"},
      {"kind = \"printer\"\ncurrency = \"XXX\"\n", "XXX"},
      {"kind = \"printer\"\ncurrency = \"CNY\"\n", "no [[resource]]"},
      {"kind = \"printer\"\ncurrency = \"CNY\"\n[[resource]]\ntype = \"gpu\"\n"
       "price = \"1/use\"\nquantity = 1\nuntil = \"+1h\"\n",
       "gpu"},
      {"kind = \"printer\"\ncurrency = \"CNY\"\n[[resource]]\ntype = "
       "\"print\"\nprice = \"1\"\nquantity = 1\nuntil = \"+1h\"\n",
       "billing unit"},
      {"kind = \"printer\"\ncurrency = \"CNY\"\n[[resource]]\ntype = "
       "\"print\"\nprice = \"1/page\"\nquantity = 0\nuntil = \"+1h\"\n",
       "quantity"},
      {"kind = \"printer\"\ncurrency = \"CNY\"\n[[resource]]\ntype = "
       "\"print\"\nprice = \"1/page\"\nquantity = 1\nfrom = \"+2h\"\nuntil = "
       "\"+1h\"\n",
       "after"},
      {"kind = \"printer\"\ncurrency = \"CNY\"\ncolour = \"red\"\n", "colour"},
      {"kind = \"printer\"\ncurrency = \"CNY\"\ndevice = \"12\"\n", "32 hex"},
      {"kind = [\n", "line"},
  };
  for (const auto& c : cases) {
    auto f = ParseDeviceFile(c.text, kNow);
    EXPECT_FALSE(f) << c.text;
    EXPECT_EQ(f.status().code(), support::Status::Code::kInvalidArgument);
    EXPECT_NE(f.status().message().find(c.says), std::string::npos)
        << f.status().message();
  }
}

TEST(InsertDeviceLine, AddsTheIdAfterTheCommentAndKeepsEveryOtherLine) {
  protocol::DeviceId id{};
  id[15] = 0xAB;
  std::string out = InsertDeviceLine(kIssueExample, id);
  std::string want(kIssueExample);
  std::string comment = "# device = \"...\"";
  size_t eol = want.find('\n', want.find(comment));
  want.insert(eol + 1, "device = \"000000000000000000000000000000ab\"\n");
  EXPECT_EQ(out, want);
  auto f = ParseDeviceFile(out, kNow);
  ASSERT_TRUE(f) << f.status().message();
  EXPECT_EQ(f->device, id);
}

TEST(InsertDeviceLine, PutsTheIdBeforeTheFirstTableWithoutAComment) {
  protocol::DeviceId id{};
  std::string text =
      "kind = \"cpu\"\n\n[[resource]]\ntype = \"cpu\"\n";  // not parsed here
  EXPECT_EQ(InsertDeviceLine(text, id),
            "kind = \"cpu\"\n\ndevice = \"00000000000000000000000000000000\"\n"
            "[[resource]]\ntype = \"cpu\"\n");
}

TEST(WriteBackDevice, RewritesTheFileKeepingItsMode) {
  testing::TempDir dir;
  std::string path = dir.path() + "/printer.toml";
  {
    std::ofstream f(path);
    f << kIssueExample;
  }
  chmod(path.c_str(), 0640);
  protocol::DeviceId id{};
  id[0] = 0x11;
  support::Status written = WriteBackDevice(path, id);
  ASSERT_TRUE(written.ok()) << written.message();
  auto f = LoadDeviceFile(path, kNow);
  ASSERT_TRUE(f) << f.status().message();
  EXPECT_EQ(f->device, id);
  struct stat st {};
  stat(path.c_str(), &st);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

}  // namespace
}  // namespace crsp::cli
