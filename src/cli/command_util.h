#pragma once

// What the command files share: the one-line error report, the --data/--store options and opening
// the hub for a command's body.

#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/data_dir_util.h"
#include "common/status.h"
#include "storage/store.h"

namespace liaison::cli {

// Prints "liaison: <message>" on stderr; returns the exit status 1.
inline int Fail(const Status& status) {
  std::cerr << "liaison: " << status.message() << "\n";
  return 1;
}

// Adds the --data and --store options every hub command takes (one of them is required; --data
// whenever the hub's key is needed; see server/store_url.h for the URL forms).
inline CLI::Option* AddDataOption(CLI::App* cmd, std::string& data, std::string& store) {
  cmd->add_option("--store", store,
                  "Store URL: postgresql://USER@HOST:PORT/DB (or sqlite:PATH); default: SQLite in "
                  "--data DIR");
  return cmd->add_option("--data", data, "Hub data directory (holds hub.db and hub.key)");
}

// Runs `body(storage::Store&) -> Status` against the opened hub; prints the error and returns 1 on
// failure, 0 on success.
template <typename Body>
int WithHub(const std::string& data, const std::string& store_url, Body&& body) {
  Result<std::unique_ptr<storage::Store>> store = OpenHub(data, store_url);
  if (!store.ok()) return Fail(store.status());
  Status s = body(**store);
  return s.ok() ? 0 : Fail(s);
}

}  // namespace liaison::cli
