#include "cli/commands.h"

namespace liaison::cli {

void RegisterHubCommands(CLI::App& /*app*/, CommandContext& /*ctx*/) {}

}  // namespace liaison::cli
