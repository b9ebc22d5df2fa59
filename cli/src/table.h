// Aligned plain-text tables for the CLI's human output.
#ifndef CRSP_CLI_TABLE_H_
#define CRSP_CLI_TABLE_H_

#include <string>
#include <vector>

namespace crsp::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headings);
  // REQUIRES: as many cells as headings.
  void AddRow(std::vector<std::string> cells);
  // Columns padded to their widest cell, two spaces apart, one line each.
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace crsp::cli

#endif  // CRSP_CLI_TABLE_H_
