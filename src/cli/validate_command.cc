#include "cli/commands.h"

namespace liaison::cli {

void RegisterValidateCommand(CLI::App& /*app*/, CommandContext& /*ctx*/) {}

}  // namespace liaison::cli
