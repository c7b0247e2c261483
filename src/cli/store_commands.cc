// liaison migrate  --store URL | --data DIR
// liaison store copy --from URL --to URL
// Store URLs: server/store_url.h (postgresql://..., sqlite:PATH, a data directory).

#include <iostream>
#include <memory>
#include <string>

#include "cli/command_util.h"
#include "cli/commands.h"
#include "server/store_copy.h"
#include "server/store_url.h"

namespace liaison::cli {

namespace {

struct MigrateArgs {
  std::string data;
  std::string store;
};

int RunMigrate(const MigrateArgs& args) {
  Result<server::StoreLocation> where = server::ParseStoreUrl(args.store, args.data);
  if (!where.ok()) return Fail(where.status());
  // Opening applies the pending migrations (PostgreSQL under an advisory lock, so this is safe
  // while nodes start). A SQLite file must exist (migrate never creates a data directory's
  // database); a PostgreSQL database gets the schema even before `liaison init --store`.
  Result<std::unique_ptr<storage::Store>> store = server::OpenStore(
      *where, where->kind == server::StoreKind::kPostgres ? server::OpenMode::kCreate
                                                          : server::OpenMode::kExisting);
  if (!store.ok()) return Fail(store.status());
  Result<bool> empty = server::StoreIsEmpty(**store);
  if (!empty.ok()) return Fail(empty.status());
  std::cout << where->display << ": schema version " << server::SchemaVersionOf(*where)
            << " (current)" << (*empty ? "; no hub yet (create one with `liaison init`)" : "")
            << "\n";
  return 0;
}

struct CopyArgs {
  std::string from;
  std::string to;
};

int RunCopy(const CopyArgs& args) {
  Result<server::CopyReport> report = server::CopyHub(args.from, args.to);
  if (!report.ok()) return Fail(report.status());
  std::cout << "copied " << report->from << " -> " << report->to << "\n";
  for (const auto& [table, rows] : report->tables) {
    std::cout << "  " << table << ": " << rows << "\n";
  }
  std::cout << "verified: row counts match; audit chain of " << report->audit_entries
            << " entries intact, head "
            << (report->audit_head.empty() ? std::string("(empty)") : report->audit_head)
            << " as in the source\n"
            << "note: the hub's key file (hub.key) is not in the store: keep it in the --data "
               "directory of every node that serves the copy\n";
  return 0;
}

}  // namespace

void RegisterStoreCommands(CLI::App& app, CommandContext& ctx) {
  {
    auto args = std::make_shared<MigrateArgs>();
    CLI::App* cmd = app.add_subcommand(
        "migrate",
        "Apply pending schema migrations to the hub's store and print its schema version (serve "
        "also migrates on start)");
    cmd->add_option("--store", args->store,
                    "Store URL: postgresql://USER@HOST:PORT/DB or sqlite:PATH (default: SQLite in "
                    "--data DIR)");
    cmd->add_option("--data", args->data, "Hub data directory (holds hub.db)");
    cmd->callback([args, &ctx] { ctx.exit_code = RunMigrate(*args); });
  }
  {
    CLI::App* store = app.add_subcommand("store", "Store maintenance");
    store->require_subcommand(1);
    auto args = std::make_shared<CopyArgs>();
    CLI::App* cmd = store->add_subcommand(
        "copy",
        "Copy a whole hub (settings, collections, users, keys, objects with every version, "
        "statuses, partners, channels, outbox, events, audit chain, feedback) into an EMPTY store, "
        "then verify row counts and the audit chain. Stop the source hub first.");
    cmd->add_option("--from", args->from,
                    "Source: a data directory, sqlite:PATH or postgresql://USER@HOST:PORT/DB")
        ->required();
    cmd->add_option("--to", args->to, "Target (empty): same forms as --from")->required();
    cmd->callback([args, &ctx] { ctx.exit_code = RunCopy(*args); });
  }
}

}  // namespace liaison::cli
