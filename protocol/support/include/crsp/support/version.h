// The version of this build: the project version from CMake's project()
// and the git commit the tree was configured from ("unknown" outside a git
// checkout). Both are fixed when CMake configures the build.
#ifndef CRSP_SUPPORT_VERSION_H_
#define CRSP_SUPPORT_VERSION_H_

#include <string>
#include <string_view>

namespace crsp::support {

// "0.1.0".
std::string_view ProjectVersion();
// Abbreviated commit hash of HEAD when CMake configured the build;
// "unknown" when not built from a git checkout.
std::string_view GitCommit();
// What `PROGRAM --version` prints: "crsp-node 0.1.0 (git 4db20a5)".
std::string VersionLine(std::string_view program);

}  // namespace crsp::support

#endif  // CRSP_SUPPORT_VERSION_H_
