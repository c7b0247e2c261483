#include "common/log.h"

#include <string_view>

namespace liaison {

void SetLogLevel(const char* level) {
  std::string_view l = level ? level : "info";
  spdlog::level::level_enum e = spdlog::level::info;
  if (l == "debug") e = spdlog::level::debug;
  else if (l == "warn") e = spdlog::level::warn;
  else if (l == "error") e = spdlog::level::err;
  else if (l == "off") e = spdlog::level::off;
  spdlog::set_level(e);
}

}  // namespace liaison
