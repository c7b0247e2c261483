#pragma once

// Output helpers shared by the `liaison` commands: aligned tables and timestamps.

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "stix/timestamp.h"

namespace liaison::cli {

// A STIX timestamp with whole seconds, or "-" for 0.
inline std::string FormatTime(int64_t micros) {
  return micros > 0 ? stix::FormatTimestamp(stix::Timestamp{micros}, 0) : "-";
}

// Prints rows as left-aligned columns separated by two spaces; the last column is not padded.
inline void PrintTable(const std::vector<std::vector<std::string>>& rows,
                       std::ostream& out = std::cout) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
}

}  // namespace liaison::cli
