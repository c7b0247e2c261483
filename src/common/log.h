#pragma once

// Logging facade over spdlog. Log an error once, where it is handled.
//
//   LOG_INFO("listening on {}", endpoint);

#include <spdlog/spdlog.h>

#define LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)

namespace liaison {
// Sets the global level from "debug", "info", "warn", "error", "off". Unknown names keep "info".
void SetLogLevel(const char* level);
}  // namespace liaison
