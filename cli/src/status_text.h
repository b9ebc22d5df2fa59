// One-line explanations of the spec's status codes, telling the user what
// to do, for the CLI's error lines ("NOT_AUTHORIZED: ...").
#ifndef CRSP_CLI_STATUS_TEXT_H_
#define CRSP_CLI_STATUS_TEXT_H_

#include <string>
#include <string_view>

#include "crsp/protocol/wire.h"

namespace crsp::cli {

std::string_view StatusHint(wire::Status status);

// "STATUS_NAME: hint".
std::string StatusLine(wire::Status status);

}  // namespace crsp::cli

#endif  // CRSP_CLI_STATUS_TEXT_H_
