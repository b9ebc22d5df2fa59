#include "proc_counters.h"

#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace crsp::bench {
namespace {

std::string ProcPath(pid_t pid, const char* rest) {
  return "/proc/" + std::to_string(pid) + "/" + rest;
}

// The "Udp:" pair of lines of /proc/PID/net/snmp: a line of field names,
// then a line of values in the same order.
bool ReadUdp4(pid_t pid, UdpDatagrams* d) {
  std::ifstream snmp(ProcPath(pid, "net/snmp"));
  std::string names, values;
  while (std::getline(snmp, names)) {
    if (names.rfind("Udp: ", 0) != 0) continue;
    if (!std::getline(snmp, values)) return false;
    std::istringstream n(names), v(values);
    std::string name, value;
    bool in = false, out = false;
    while (n >> name && v >> value) {
      if (name == "InDatagrams") d->in += std::stoull(value), in = true;
      if (name == "OutDatagrams") d->out += std::stoull(value), out = true;
      if (name == "InErrors") d->in_errors += std::stoull(value);
    }
    return in && out;
  }
  return false;
}

bool ReadUdp6(pid_t pid, UdpDatagrams* d) {
  std::ifstream snmp6(ProcPath(pid, "net/snmp6"));
  std::string name;
  uint64_t value = 0;
  bool in = false, out = false;
  while (snmp6 >> name >> value) {
    if (name == "Udp6InDatagrams") d->in += value, in = true;
    if (name == "Udp6OutDatagrams") d->out += value, out = true;
    if (name == "Udp6InErrors") d->in_errors += value;
  }
  return in && out;
}

}  // namespace

std::optional<UdpDatagrams> UdpDatagramsOf(pid_t pid) {
  UdpDatagrams d;
  // A kernel without IPv6 has no snmp6; one of the two families suffices.
  const bool v4 = ReadUdp4(pid, &d);
  const bool v6 = ReadUdp6(pid, &d);
  if (!v4 && !v6) return std::nullopt;
  return d;
}

UdpDatagrams UdpDatagramsOfNamespaces(const std::vector<pid_t>& pids,
                                      int* missing) {
  UdpDatagrams sum;
  std::set<std::pair<dev_t, ino_t>> seen;
  int not_read = 0;
  for (pid_t pid : pids) {
    struct stat ns {};
    if (stat(ProcPath(pid, "ns/net").c_str(), &ns) != 0) {
      ++not_read;
      continue;
    }
    if (!seen.insert({ns.st_dev, ns.st_ino}).second) continue;
    auto d = UdpDatagramsOf(pid);
    if (!d) {
      ++not_read;
      continue;
    }
    sum.in += d->in;
    sum.out += d->out;
    sum.in_errors += d->in_errors;
  }
  if (missing != nullptr) *missing = not_read;
  return sum;
}

std::optional<uint64_t> VmRssKb(pid_t pid) {
  std::ifstream status(ProcPath(pid, "status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    uint64_t kb = 0;
    if (fields >> kb) return kb;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace crsp::bench
