#include "file_util.h"

#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace crsp::node {

void EnsureDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) {
      throw std::runtime_error("cannot create state directory " + dir + ": " +
                               ec.message());
    }
    fs::permissions(dir, fs::perms::owner_all, ec);
  }
  if (!fs::is_directory(dir, ec)) {
    throw std::runtime_error("state directory " + dir + " is not a directory");
  }
}

}  // namespace crsp::node
