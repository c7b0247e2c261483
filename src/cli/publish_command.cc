#include "cli/commands.h"

namespace liaison::cli {

void RegisterPublishCommand(CLI::App& /*app*/, CommandContext& /*ctx*/) {}

}  // namespace liaison::cli
