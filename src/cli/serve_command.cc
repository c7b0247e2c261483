#include "cli/commands.h"

namespace liaison::cli {

void RegisterServeCommand(CLI::App& /*app*/, CommandContext& /*ctx*/) {}

}  // namespace liaison::cli
