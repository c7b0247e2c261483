// liaison serve --data DIR [--store URL] [--key-file FILE] --listen HOST:PORT
//               [--tls-cert FILE --tls-key FILE] [--threads N] [--log-level L]
// Runs the hub until SIGINT/SIGTERM (server/server.h). Prints one line on stdout once listening:
// "liaison: listening on http://HOST:PORT".

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "server/server.h"

namespace liaison::cli {

void RegisterServeCommand(CLI::App& app, CommandContext& ctx) {
  auto options = std::make_shared<server::ServerOptions>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Serve the hub in DIR over TAXII 2.1 (HTTP or HTTPS) until SIGINT/SIGTERM");
  cmd->add_option("--data", options->data_dir,
                  "Hub data directory (made by `liaison init`): hub.db and hub.key");
  cmd->add_option("--store", options->store,
                  "Store URL: postgresql://USER@HOST:PORT/DB runs this process as one node of a "
                  "hub on PostgreSQL (default: SQLite in --data DIR)");
  cmd->add_option("--key-file", options->key_file, "The hub's key file (default: DIR/hub.key)");
  cmd->add_option("--listen", options->listen,
                  "Address and port to listen on: HOST:PORT or [IPv6]:PORT (port 0: any free)")
      ->capture_default_str();
  CLI::Option* cert =
      cmd->add_option("--tls-cert", options->tls_cert, "PEM certificate chain (enables HTTPS)");
  CLI::Option* key = cmd->add_option("--tls-key", options->tls_key, "PEM private key");
  cert->needs(key);
  key->needs(cert);
  cmd->add_option("--threads", options->threads,
                  "Worker threads (0: max(4, 2 x cores); requests block on the store)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  cmd->add_option("--log-level", options->log_level, "Log level (logs go to stderr)")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));
  cmd->callback([options, &ctx] {
    Status status = server::RunServer(*options);
    if (!status.ok()) {
      std::cerr << "liaison: " << status.message() << "\n";
      ctx.exit_code = 1;
    }
  });
}

}  // namespace liaison::cli
