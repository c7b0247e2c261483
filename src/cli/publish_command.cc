// `liaison publish`: push STIX content to any TAXII 2.1 server.
//
//   liaison publish --url URL --collection ID --user U --password-stdin FILE
//   liaison publish --url URL --collection ID --api-key-stdin FILE
//
// FILE (a STIX bundle, a TAXII envelope, a single object or a JSON array of objects; "-" for
// stdin when no secret is read from it) is validated locally first; nothing is sent if any object
// is invalid. URL is an API root URL or a discovery URL (then its default API root). Objects go
// out in envelopes no larger than the API root's max_content_length.
//
// Output: "published N objects (M failed)" on stdout, then one line per failure.
// Exit: 0 everything succeeded; 1 some or all failed, or the server could not be used;
//       2 invalid input (unreadable file, invalid STIX, bad arguments).

#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/data_dir_util.h"
#include "cli/publish_util.h"
#include "federation/taxii_client.h"
#include "stix/object.h"
#include "stix/timestamp.h"

namespace liaison::cli {

namespace {

struct PublishArgs {
  std::string url;
  std::string collection;
  std::string user;
  bool password_stdin = false;
  bool api_key_stdin = false;
  bool insecure = false;
  std::string ca_file;
  std::string file;
  double timeout_seconds = 120;
  size_t max_envelope_bytes = 0;
};

constexpr int kExitFailed = 1;
constexpr int kExitInvalid = 2;

int Fail(int code, const std::string& message) {
  std::cerr << "liaison: " << message << "\n";
  return code;
}

Result<std::string> ReadInput(const std::string& file) {
  std::string text;
  if (file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (std::cin.bad()) return InvalidArgumentError("cannot read stdin");
    return text;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return InvalidArgumentError("cannot read '" + file + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return InvalidArgumentError("cannot read '" + file + "'");
  return std::move(ss).str();
}

std::string VersionText(const stix::ObjectInfo& info) {
  std::optional<stix::Timestamp> v = info.version();
  return v ? stix::FormatTimestampShortest(*v) : "";
}

int RunPublish(const PublishArgs& args) {
  // Credentials.
  if (args.api_key_stdin && (args.password_stdin || !args.user.empty())) {
    return Fail(kExitInvalid, "use either --user with --password-stdin, or --api-key-stdin");
  }
  if (args.password_stdin && args.user.empty()) {
    return Fail(kExitInvalid, "--password-stdin needs --user");
  }
  if (!args.user.empty() && !args.password_stdin) {
    return Fail(kExitInvalid, "--user needs --password-stdin (the password is read from stdin)");
  }
  bool secret_on_stdin = args.password_stdin || args.api_key_stdin;
  if (secret_on_stdin && args.file == "-") {
    return Fail(kExitInvalid, "FILE cannot be '-' when a secret is read from stdin");
  }

  // Input, validated before anything is sent.
  Result<std::string> text = ReadInput(args.file);
  if (!text.ok()) return Fail(kExitInvalid, text.status().message());
  stix::ParseLimits limits;
  limits.max_objects = 10'000'000;
  Result<stix::ParsedEnvelope> parsed = stix::ParseDocument(*text, limits);
  if (!parsed.ok()) return Fail(kExitInvalid, args.file + ": " + parsed.status().message());
  std::vector<PublishObject> objects;
  objects.reserve(parsed->objects.size());
  size_t invalid = 0;
  size_t index = 0;
  for (const stix::ObjectResult& r : parsed->objects) {
    ++index;
    if (!r.ok()) {
      ++invalid;
      const std::string& msg = r.error.message();
      // Object errors usually start with the object's id already.
      if (!r.id_hint.empty() && msg.rfind(r.id_hint, 0) == 0) {
        std::cerr << args.file << ": " << msg << "\n";
      } else {
        std::cerr << args.file << ": object " << (index - 1) << ": " << msg << "\n";
      }
      continue;
    }
    objects.push_back({r.info.id, VersionText(r.info), r.info.json});
  }
  if (invalid > 0) {
    return Fail(kExitInvalid, std::to_string(invalid) + " of " +
                                  std::to_string(parsed->objects.size()) +
                                  " objects are invalid; nothing was published");
  }
  parsed = stix::ParsedEnvelope{};  // free the parse results; `objects` holds what is sent
  text = std::string();

  federation::TaxiiClientOptions options;
  if (args.password_stdin) {
    Result<std::string> pw = ReadSecretLine("Password for " + args.user + ": ");
    if (!pw.ok()) return Fail(kExitInvalid, "password: " + pw.status().message());
    options.credentials = federation::Credentials::Basic(args.user, *pw);
  } else if (args.api_key_stdin) {
    Result<std::string> key = ReadSecretLine("API key: ");
    if (!key.ok()) return Fail(kExitInvalid, "API key: " + key.status().message());
    options.credentials = federation::Credentials::Bearer(*key);
  }
  options.insecure = args.insecure;
  options.ca_file = args.ca_file;
  if (args.timeout_seconds <= 0) return Fail(kExitInvalid, "--timeout must be positive");
  options.request_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(args.timeout_seconds * 1000));
  options.connect_timeout = std::min(options.request_timeout, std::chrono::milliseconds(10'000));

  Result<std::unique_ptr<federation::TaxiiClient>> client =
      federation::TaxiiClient::Create(args.url, options);
  if (!client.ok()) return Fail(kExitInvalid, client.status().message());
  Result<federation::TaxiiClient::ResolvedApiRoot> root = (*client)->ResolveApiRoot(args.url);
  if (!root.ok()) return Fail(kExitFailed, root.status().message());

  if (objects.empty()) {
    std::cout << "published 0 objects (0 failed)\n";
    return 0;
  }
  PublishOptions publish;
  publish.collection_id = args.collection;
  publish.max_envelope_bytes = args.max_envelope_bytes;
  PublishReport report =
      PublishObjects(**client, root->url, root->info.max_content_length, objects, publish);

  bool nothing_happened = report.envelopes == 0 && report.failed == 0;
  if (report.error.ok() || !nothing_happened) {
    std::cout << "published " << report.succeeded << " objects (" << report.failed << " failed)\n";
  }
  for (const PublishFailure& f : report.failures) {
    std::cout << "failed: " << f.id << (f.version.empty() ? "" : " " + f.version) << ": "
              << f.message << "\n";
  }
  for (const PublishFailure& p : report.pendings) {
    std::cout << "pending: " << p.id << (p.version.empty() ? "" : " " + p.version) << "\n";
  }
  if (report.pending > 0) {
    std::cout << report.pending
              << " objects were still pending on the server when we stopped waiting\n";
  }
  if (!report.error.ok()) {
    std::string msg = report.error.message();
    if (report.not_sent > 0) msg += " (" + std::to_string(report.not_sent) + " objects not sent)";
    return Fail(kExitFailed, msg);
  }
  return report.all_succeeded() ? 0 : kExitFailed;
}

}  // namespace

void RegisterPublishCommand(CLI::App& app, CommandContext& ctx) {
  auto a = std::make_shared<PublishArgs>();
  CLI::App* cmd = app.add_subcommand(
      "publish",
      "Push a STIX bundle (or envelope, object, array of objects) to any TAXII 2.1 server. Exit 0 "
      "all published, 1 some or all failed, 2 invalid input");
  cmd->add_option("--url", a->url,
                  "API root URL (http://127.0.0.1:8080/api/) or discovery URL (.../taxii2/)")
      ->required();
  cmd->add_option("--collection", a->collection, "Collection id (or alias, if the server allows)")
      ->required();
  cmd->add_option("--user", a->user, "User name for HTTP Basic authentication");
  cmd->add_flag("--password-stdin", a->password_stdin, "Read the password (one line) from stdin");
  cmd->add_flag("--api-key-stdin", a->api_key_stdin,
                "Read an API key (one line) from stdin; sent as Authorization: Bearer");
  cmd->add_flag("--insecure", a->insecure,
                "Do not verify the server's TLS certificate (testing only)");
  cmd->add_option("--ca-file", a->ca_file, "PEM file of CA certificates to trust for https")
      ->check(CLI::ExistingFile);
  cmd->add_option("--timeout", a->timeout_seconds, "Seconds to wait for each response")
      ->capture_default_str();
  cmd->add_option("--max-envelope-bytes", a->max_envelope_bytes,
                  "Largest envelope to send (default: the API root's max_content_length)");
  cmd->add_option("FILE", a->file, "STIX JSON file, or - for stdin")->required();
  cmd->callback([a, &ctx] { ctx.exit_code = RunPublish(*a); });
}

}  // namespace liaison::cli
