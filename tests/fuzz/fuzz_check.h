// The fuzz targets' check: on failure it names the condition and aborts,
// which libFuzzer (and the corpus replay under ctest) reports as a crash.
#ifndef CRSP_TESTS_FUZZ_FUZZ_CHECK_H_
#define CRSP_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                              \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                   \
    }                                                                 \
  } while (0)

#endif  // CRSP_TESTS_FUZZ_FUZZ_CHECK_H_
