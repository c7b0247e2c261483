#include "cli/data_dir_util.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <sys/stat.h>

#include "server/store_url.h"
#include "storage/sqlite/sqlite_store.h"

namespace liaison::cli {

namespace fs = std::filesystem;

std::string HubDbPath(std::string_view data_dir) {
  if (data_dir.empty()) return std::string("./") + kHubDbFile;
  std::string path(data_dir);
  if (path.back() != '/') path += '/';
  return path + kHubDbFile;
}

Result<std::unique_ptr<storage::Store>> OpenHub(const std::string& data_dir) {
  if (data_dir.empty()) return InvalidArgumentError("--data DIR is required");
  std::string path = HubDbPath(data_dir);
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return NotFoundError("no hub in '" + data_dir + "' (create one with: liaison init --data " +
                         data_dir + ")");
  }
  // New WAL/shm files must be as private as the database.
  umask(077);
  Result<std::unique_ptr<storage::sqlite::SqliteStore>> store =
      storage::sqlite::SqliteStore::Open(path);
  if (!store.ok()) return store.status().WithContext("cannot open " + path);
  return std::unique_ptr<storage::Store>(std::move(store).value());
}

Result<std::unique_ptr<storage::Store>> OpenHub(const std::string& data_dir,
                                                const std::string& store) {
  if (store.empty()) return OpenHub(data_dir);
  ASSIGN_OR_RETURN(server::StoreLocation where, server::ParseStoreUrl(store, data_dir));
  if (where.kind == server::StoreKind::kSqlite) {
    std::error_code ec;
    if (!fs::is_regular_file(where.target, ec)) {
      return NotFoundError("no hub in '" + where.display + "' (create one with: liaison init)");
    }
    return server::OpenStore(where, server::OpenMode::kCreate);
  }
  return server::OpenStore(where, server::OpenMode::kExisting);
}

bool IsRemoteStore(const std::string& store) {
  Result<server::StoreLocation> where = server::ParseStoreUrl(store, "unused");
  return where.ok() && where->kind == server::StoreKind::kPostgres;
}

Result<std::unique_ptr<storage::Store>> OpenNewRemoteHub(const std::string& store) {
  ASSIGN_OR_RETURN(server::StoreLocation where, server::ParseStoreUrl(store, ""));
  ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> opened,
                   server::OpenStore(where, server::OpenMode::kCreate));
  ASSIGN_OR_RETURN(bool empty, server::StoreIsEmpty(*opened));
  if (!empty) {
    return AlreadyExistsError(where.display +
                              " already holds a hub; refusing to initialise it again");
  }
  return opened;
}

Status ClaimKeyDir(const std::string& data_dir, std::string* warning) {
  if (warning) warning->clear();
  if (data_dir.empty()) return InvalidArgumentError("--data DIR (for hub.key) is required");
  umask(077);
  std::error_code ec;
  bool existed = fs::exists(data_dir, ec);
  if (existed && !fs::is_directory(data_dir, ec)) {
    return FailedPreconditionError("'" + data_dir + "' exists and is not a directory");
  }
  if (!existed) {
    fs::create_directories(data_dir, ec);
    if (ec) return FailedPreconditionError("cannot create '" + data_dir + "': " + ec.message());
    fs::permissions(data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec) {
      return FailedPreconditionError("cannot set the mode of '" + data_dir + "': " + ec.message());
    }
  } else if (warning) {
    fs::perms p = fs::status(data_dir, ec).permissions();
    if (!ec && (p & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
      *warning = "'" + data_dir + "' is accessible to other users; consider chmod 700 " + data_dir;
    }
  }
  return Status::Ok();
}

Status ClaimNewHub(const std::string& data_dir, std::string* warning) {
  if (warning) warning->clear();
  if (data_dir.empty()) return InvalidArgumentError("--data DIR is required");
  umask(077);
  std::error_code ec;
  bool existed = fs::exists(data_dir, ec);
  if (existed && !fs::is_directory(data_dir, ec)) {
    return FailedPreconditionError("'" + data_dir + "' exists and is not a directory");
  }
  if (!existed) {
    fs::create_directories(data_dir, ec);
    if (ec) {
      return FailedPreconditionError("cannot create '" + data_dir + "': " + ec.message());
    }
    fs::permissions(data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec) {
      return FailedPreconditionError("cannot set the mode of '" + data_dir + "': " + ec.message());
    }
  } else if (warning) {
    fs::perms p = fs::status(data_dir, ec).permissions();
    if (!ec && (p & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
      *warning = "'" + data_dir + "' is accessible to other users; consider chmod 700 " + data_dir;
    }
  }
  std::string path = HubDbPath(data_dir);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return AlreadyExistsError("'" + data_dir + "' already holds a hub (" + path +
                                "); refusing to initialise it again");
    }
    return FailedPreconditionError("cannot create " + path + ": " + std::strerror(errno));
  }
  ::close(fd);
  return Status::Ok();
}

void RemoveHubFiles(const std::string& data_dir) {
  std::string path = HubDbPath(data_dir);
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix, ec);
}

Result<std::string> ReadSecretLine(std::string_view prompt) {
  bool tty = ::isatty(STDIN_FILENO) == 1;
  termios saved{};
  bool echo_off = false;
  if (tty) {
    std::cerr << prompt << std::flush;
    if (tcgetattr(STDIN_FILENO, &saved) == 0) {
      termios quiet = saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
  }
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (echo_off) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << "\n";
  }
  if (!got && line.empty()) return InvalidArgumentError("no input on stdin");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return InvalidArgumentError("empty line on stdin");
  return line;
}

}  // namespace liaison::cli
