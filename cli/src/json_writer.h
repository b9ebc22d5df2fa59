// A small streaming JSON writer for the CLI's output. It writes compact
// JSON (or indented with Pretty) and escapes strings per RFC 8259: quote,
// backslash and control characters; other bytes pass through unchanged, so
// callers hand it UTF-8.
//
// Usage: w.BeginObject(); w.Key("a"); w.Int(1); w.EndObject(); w.str().
// The writer inserts commas itself; the caller only keeps keys and values
// balanced (unbalanced use is a programming error, not checked at run time).
#ifndef CRSP_CLI_JSON_WRITER_H_
#define CRSP_CLI_JSON_WRITER_H_

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crsp::cli {

class JsonWriter {
 public:
  // `indent` 0 writes one line; otherwise nested values are indented by
  // that many spaces per level.
  explicit JsonWriter(int indent = 0) : indent_(indent) {}

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  void Key(std::string_view key);
  void String(std::string_view value);
  void Uint(uint64_t value);
  void Int(int64_t value);
  void Bool(bool value);
  void Null();

  // Key + value shorthands.
  void Field(std::string_view key, std::string_view value) {
    Key(key);
    String(value);
  }
  void Field(std::string_view key, const char* value) {
    Key(key);
    String(value);
  }
  template <std::unsigned_integral T>
  void Field(std::string_view key, T value) {
    Key(key);
    Uint(value);
  }
  void Field(std::string_view key, bool value) {
    Key(key);
    Bool(value);
  }

  const std::string& str() const { return out_; }

 private:
  // Writes the comma and newline a new value or key needs.
  void BeforeValue();
  void Close(char c);
  void Newline();

  std::string out_;
  int indent_;
  // One entry per open container: true once it holds an element.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

// `s` as a quoted, escaped JSON string.
std::string JsonQuote(std::string_view s);

}  // namespace crsp::cli

#endif  // CRSP_CLI_JSON_WRITER_H_
