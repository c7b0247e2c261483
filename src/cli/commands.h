#pragma once

// Registration of the `liaison` subcommands, one function per file:
//   hub_commands.cc      init, user, apikey, collection, grant   (store administration)
//   serve_command.cc     serve
//   validate_command.cc  validate
//   publish_command.cc   publish
//   pattern_commands.cc  pattern check
//   match_command.cc     match
//   partner_commands.cc  identity, partner, channel, receipts, feedback, audit, config
//   store_commands.cc    migrate, store copy
// A command's callback stores its exit status in ctx.exit_code and prints one line on stderr per
// error ("liaison: <message>").

#include <CLI/CLI.hpp>

namespace liaison::cli {

struct CommandContext {
  int exit_code = 0;
};

void RegisterHubCommands(CLI::App& app, CommandContext& ctx);
void RegisterServeCommand(CLI::App& app, CommandContext& ctx);
void RegisterValidateCommand(CLI::App& app, CommandContext& ctx);
void RegisterPublishCommand(CLI::App& app, CommandContext& ctx);
void RegisterPatternCommands(CLI::App& app, CommandContext& ctx);
void RegisterMatchCommand(CLI::App& app, CommandContext& ctx);
void RegisterPartnerCommands(CLI::App& app, CommandContext& ctx);
void RegisterStoreCommands(CLI::App& app, CommandContext& ctx);

}  // namespace liaison::cli
