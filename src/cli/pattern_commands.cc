#include "cli/commands.h"

namespace liaison::cli {

void RegisterPatternCommands(CLI::App& /*app*/, CommandContext& /*ctx*/) {}

}  // namespace liaison::cli
