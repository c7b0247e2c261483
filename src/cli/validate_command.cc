// `liaison validate FILE...`: checks STIX 2.1 content offline, one line per problem.
//
//   FILE: <object id>: <message>             an invalid object
//   FILE: warning: <object id>: <message>    a finding that does not make the object invalid
//   FILE: <message>                          the file cannot be read or is not STIX JSON
//
// Exit status: 0 when every object of every file is valid, 2 otherwise.

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "stix/object.h"

namespace liaison::cli {
namespace {

// Validates one file; prints its problems; returns true when it is entirely valid.
bool ValidateFile(const std::string& path, bool quiet_warnings) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stdout, "%s: cannot open the file\n", path.c_str());
    return false;
  }
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    std::fprintf(stdout, "%s: cannot read the file\n", path.c_str());
    return false;
  }
  std::vector<stix::Warning> warnings;
  Result<stix::ParsedEnvelope> doc = stix::ParseDocument(body, {}, &warnings);
  if (!doc.ok()) {
    std::fprintf(stdout, "%s: %s\n", path.c_str(), doc.status().message().c_str());
    return false;
  }
  bool valid = true;
  size_t index = 0;
  for (const stix::ObjectResult& r : doc->objects) {
    if (!r.ok()) {
      valid = false;
      const std::string& msg = r.error.message();
      // Object errors already start with the object's id; name the position otherwise.
      if (!r.id_hint.empty() && msg.rfind(r.id_hint, 0) == 0) {
        std::fprintf(stdout, "%s: %s\n", path.c_str(), msg.c_str());
      } else {
        std::fprintf(stdout, "%s: object %zu: %s\n", path.c_str(), index, msg.c_str());
      }
    }
    ++index;
  }
  if (!quiet_warnings) {
    for (const stix::Warning& w : warnings) {
      std::string where = w.object_id;
      if (!w.property.empty()) where += ": property '" + w.property + "'";
      std::fprintf(stdout, "%s: warning: %s %s\n", path.c_str(), where.c_str(), w.message.c_str());
    }
  }
  return valid;
}

}  // namespace

void RegisterValidateCommand(CLI::App& app, CommandContext& ctx) {
  struct Options {
    std::vector<std::string> files;
    bool no_warnings = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "validate",
      "Validate STIX 2.1 content: each FILE is a bundle, a TAXII envelope, one object or a JSON "
      "array of objects. Prints one line per problem; exits 0 when all valid, 2 otherwise.");
  cmd->add_option("FILE", opts->files, "JSON files to validate")->required();
  cmd->add_flag("--no-warnings", opts->no_warnings, "Print errors only");
  cmd->callback([opts, &ctx]() {
    bool all_valid = true;
    for (const std::string& f : opts->files) {
      if (!ValidateFile(f, opts->no_warnings)) all_valid = false;
    }
    std::fflush(stdout);
    ctx.exit_code = all_valid ? 0 : 2;
  });
}

}  // namespace liaison::cli
