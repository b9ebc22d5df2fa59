// Benchmark programs print their figures as `label.key=value` lines on
// stdout; bench/report.py turns them into BENCHMARKS.md tables.
#ifndef CRSP_BENCH_SUPPORT_REPORT_H_
#define CRSP_BENCH_SUPPORT_REPORT_H_

#include <cstdio>
#include <string>

namespace crsp::bench {

inline void Emit(const std::string& label, const std::string& key,
                 double value) {
  std::printf("%s.%s=%.6g\n", label.c_str(), key.c_str(), value);
  std::fflush(stdout);
}

}  // namespace crsp::bench

#endif  // CRSP_BENCH_SUPPORT_REPORT_H_
