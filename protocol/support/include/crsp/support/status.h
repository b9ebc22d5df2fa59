// One error type for crsp, crsp-node's option parsing and the helpers they
// share (after leveldb's include/leveldb/status.h): a Status is OK or a code
// plus one line of text for a person; Result<T> is a value or a non-OK
// Status. ExitCodeOf is the one place where an error becomes a process exit
// code.
#ifndef CRSP_SUPPORT_STATUS_H_
#define CRSP_SUPPORT_STATUS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace crsp::support {

class Status {
 public:
  // What kind of failure, which decides the exit code (ExitCodeOf).
  enum class Code : uint8_t {
    kOk = 0,
    kInvalidArgument,  // bad flags, arguments, config or device file
    kIoError,          // a local file, key, passphrase or system call
    kCorruption,       // bytes that do not decode (crsp decode)
    kRefused,          // a node answered with an error status
    kUnavailable,      // no node answered
    kIncomplete,       // an answer that is only part of the answer
  };

  Status() = default;  // OK
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string message) {
    return Status(Code::kInvalidArgument, std::move(message));
  }
  static Status IoError(std::string message) {
    return Status(Code::kIoError, std::move(message));
  }
  static Status Corruption(std::string message) {
    return Status(Code::kCorruption, std::move(message));
  }
  static Status Refused(std::string message) {
    return Status(Code::kRefused, std::move(message));
  }
  static Status Unavailable(std::string message) {
    return Status(Code::kUnavailable, std::move(message));
  }
  static Status Incomplete(std::string message) {
    return Status(Code::kIncomplete, std::move(message));
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // One line, without a trailing newline; may be empty when whoever failed
  // has already said why (crsp decode prints its error as JSON).
  const std::string& message() const { return message_; }

  // The same status with "prefix: " before the message (a file name, a
  // setting). OK stays OK.
  Status WithContext(std::string_view prefix) const {
    if (ok()) return *this;
    return Status(code_, std::string(prefix) + ": " + message_);
  }

 private:
  Status(Code code, std::string message)
      : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

// A T, or the Status saying why there is none. REQUIRES: a Status given to
// the constructor is not OK.
template <typename T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}         // NOLINT: implicit
  Result(Status status) : state_(std::move(status)) {}  // NOLINT: implicit

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }
  // OK when there is a value.
  Status status() const {
    return ok() ? Status::Ok() : std::get<Status>(state_);
  }
  // REQUIRES: ok().
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> state_;
};

// The process exit code of a status, BSD sysexits.h style so scripts can
// tell the classes apart: 0 OK, 1 local (I/O), 2 corruption (decode), 64
// usage, 65 refused by a node, 69 no node answered, 75 (EX_TEMPFAIL) an
// incomplete answer: ask again. docs/cli.md documents them.
int ExitCodeOf(const Status& status);

}  // namespace crsp::support

#endif  // CRSP_SUPPORT_STATUS_H_
