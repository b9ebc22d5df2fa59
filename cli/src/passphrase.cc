#include "passphrase.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>

#include "crsp/support/file.h"

namespace crsp::cli {
namespace {

// Reads one line from /dev/tty with echo off; empty when there is no
// terminal.
std::optional<std::string> Prompt(const char* text) {
  int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  termios old{};
  bool have_termios = tcgetattr(fd, &old) == 0;
  if (have_termios) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ICANON;
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  ssize_t w = write(fd, text, std::char_traits<char>::length(text));
  (void)w;
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') line += c;
  if (have_termios) tcsetattr(fd, TCSAFLUSH, &old);
  w = write(fd, "\n", 1);
  close(fd);
  return line;
}

}  // namespace

support::Result<std::string> GetPassphrase(const std::string& passphrase_file,
                                           bool confirm) {
  if (!passphrase_file.empty()) {
    support::Result<std::string> text = support::ReadFile(passphrase_file);
    if (!text) return text.status();
    std::string line = text->substr(0, text->find('\n'));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  if (const char* env = std::getenv(kPassphraseEnv)) return std::string(env);
  auto first = Prompt("Passphrase: ");
  if (!first) {
    return support::Status::IoError(
        "no passphrase: no terminal to ask on; set CRSP_PASSPHRASE or pass "
        "--passphrase-file");
  }
  if (confirm) {
    auto second = Prompt("Passphrase again: ");
    if (!second || *second != *first) {
      return support::Status::IoError(
          "the two passphrases differ; nothing written");
    }
    if (first->empty()) {
      return support::Status::IoError(
          "an empty passphrase would leave the key unprotected; refused");
    }
  }
  return *first;
}

}  // namespace crsp::cli
