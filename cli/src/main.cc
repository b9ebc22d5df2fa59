// crsp: the command-line client of the cloud resource sales platform.
// Everything lives in crsp_cli_lib so tests can link it; this is only the
// entry point.
#include "app.h"

int main(int argc, char** argv) { return crsp::cli::RunCli(argc, argv); }
