#include "cli/commands.h"

namespace liaison::cli {

void RegisterMatchCommand(CLI::App& /*app*/, CommandContext& /*ctx*/) {}

}  // namespace liaison::cli
