// The `liaison` command. Each group of subcommands registers itself from its own file
// (commands.h); a failing command prints one line on stderr and exits non-zero.

#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Liaison: the threat-intelligence partnership hub (STIX 2.1, TAXII 2.1)", "liaison"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "liaison 0.1.0");
  liaison::cli::CommandContext ctx;
  liaison::cli::RegisterHubCommands(app, ctx);
  liaison::cli::RegisterServeCommand(app, ctx);
  liaison::cli::RegisterValidateCommand(app, ctx);
  liaison::cli::RegisterPublishCommand(app, ctx);
  liaison::cli::RegisterPatternCommands(app, ctx);
  liaison::cli::RegisterMatchCommand(app, ctx);
  liaison::cli::RegisterPartnerCommands(app, ctx);
  liaison::cli::RegisterStoreCommands(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    // CLI11 returns 0 for --help/--version; usage errors exit 2 like other tools' usage errors.
    return rc == 0 ? 0 : 2;
  }
  return ctx.exit_code;
}
