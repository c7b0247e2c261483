#include "storage/postgres/pg_connection.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <utility>

namespace liaison::storage::postgres {
namespace {

// libpq messages end with a newline; messages in Status do not.
std::string Trim(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

std::string ArrayElement(std::string_view value) {
  std::string out = "\"";
  for (char ch : value) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  out += '"';
  return out;
}

int HexValue(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Params

std::string Params::Add(std::string_view text) {
  values_.emplace_back(text);
  null_.push_back(false);
  binary_.push_back(0);
  return "$" + std::to_string(values_.size());
}

std::string Params::Add(int64_t value) { return Add(std::string_view(std::to_string(value))); }

std::string Params::Add(bool value) { return Add(std::string_view(value ? "t" : "f")); }

std::string Params::AddNull() {
  values_.emplace_back();
  null_.push_back(true);
  binary_.push_back(0);
  return "$" + std::to_string(values_.size());
}

std::string Params::AddBytes(std::string_view bytes) {
  values_.emplace_back(bytes);
  null_.push_back(false);
  binary_.push_back(1);
  return "$" + std::to_string(values_.size()) + "::bytea";
}

std::string Params::AddTextArray(const std::vector<std::string>& values) {
  std::string literal = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal += ',';
    literal += ArrayElement(values[i]);
  }
  literal += '}';
  return Add(std::string_view(literal)) + "::text[]";
}

std::string Params::AddBigintArray(const std::vector<int64_t>& values) {
  std::string literal = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal += ',';
    literal += std::to_string(values[i]);
  }
  literal += '}';
  return Add(std::string_view(literal)) + "::bigint[]";
}

// ---------------------------------------------------------------------------------------------
// PgResult

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

PgResult::~PgResult() {
  if (result_ != nullptr) PQclear(result_);
}

int PgResult::rows() const { return result_ == nullptr ? 0 : PQntuples(result_); }

int64_t PgResult::affected() const {
  if (result_ == nullptr) return 0;
  const char* text = PQcmdTuples(result_);
  int64_t n = 0;
  if (text != nullptr) std::from_chars(text, text + std::char_traits<char>::length(text), n);
  return n;
}

bool PgResult::IsNull(int row, int col) const { return PQgetisnull(result_, row, col) != 0; }

std::string PgResult::Text(int row, int col) const {
  return std::string(PQgetvalue(result_, row, col),
                     static_cast<size_t>(PQgetlength(result_, row, col)));
}

int64_t PgResult::Int(int row, int col) const {
  const char* text = PQgetvalue(result_, row, col);
  int64_t n = 0;
  std::from_chars(text, text + PQgetlength(result_, row, col), n);
  return n;
}

bool PgResult::Bool(int row, int col) const {
  const char* text = PQgetvalue(result_, row, col);
  return text != nullptr && text[0] == 't';
}

std::string PgResult::Bytes(int row, int col) const {
  // bytea_output = hex (set on every connection): "\x" followed by two hex digits per byte.
  std::string_view text(PQgetvalue(result_, row, col),
                        static_cast<size_t>(PQgetlength(result_, row, col)));
  std::string out;
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x') return out;
  text.remove_prefix(2);
  out.reserve(text.size() / 2);
  for (size_t i = 0; i + 1 < text.size(); i += 2) {
    int hi = HexValue(text[i]);
    int lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) break;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Connect spec

Result<ConnectSpec> ResolveConnectSpec(const std::string& url, int connect_timeout_s,
                                       const std::string& application_name,
                                       const std::string& schema) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &error);
  if (parsed == nullptr) {
    std::string message = error != nullptr ? Trim(error) : "out of memory";
    if (error != nullptr) PQfreemem(error);
    return InvalidArgumentError("invalid PostgreSQL URL: " + message);
  }
  ConnectSpec spec;
  spec.schema = schema;
  std::string host = "localhost";
  std::string hostaddr;
  std::string port = "5432";
  bool has_timeout = false, has_keepalives = false, has_app = false;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    std::string key = o->keyword;
    if (key == "host") host = o->val;
    if (key == "hostaddr") hostaddr = o->val;
    if (key == "port") port = o->val;
    if (key == "connect_timeout") has_timeout = true;
    if (key == "keepalives") has_keepalives = true;
    if (key == "application_name") has_app = true;
    spec.keywords.push_back(key);
    spec.values.emplace_back(o->val);
  }
  PQconninfoFree(parsed);
  if (!has_timeout) {
    spec.keywords.emplace_back("connect_timeout");
    spec.values.push_back(std::to_string(connect_timeout_s < 2 ? 2 : connect_timeout_s));
  }
  if (!has_keepalives) {
    // A server that vanishes (host down, network cut) is noticed within about 20 s instead of
    // the kernel's two hours.
    for (auto [k, v] :
         {std::pair{"keepalives", "1"}, std::pair{"keepalives_idle", "10"},
          std::pair{"keepalives_interval", "5"}, std::pair{"keepalives_count", "2"}}) {
      spec.keywords.emplace_back(k);
      spec.values.emplace_back(v);
    }
  }
  if (!has_app && !application_name.empty()) {
    spec.keywords.emplace_back("application_name");
    spec.values.push_back(application_name);
  }
  spec.display = (hostaddr.empty() ? host : hostaddr) + ":" + port;
  return spec;
}

// ---------------------------------------------------------------------------------------------
// PgConnection

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const ConnectSpec& spec) {
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (size_t i = 0; i < spec.keywords.size(); ++i) {
    keywords.push_back(spec.keywords[i].c_str());
    values.push_back(spec.values[i].c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/0);
  if (conn == nullptr) return UnavailableError("cannot reach PostgreSQL at " + spec.display);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = Trim(PQerrorMessage(conn));
    PQfinish(conn);
    return UnavailableError("cannot reach PostgreSQL at " + spec.display + ": " + message);
  }
  // Server notices (e.g. "drop cascades to ...") are not errors: keep them off stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  std::unique_ptr<PgConnection> c(new PgConnection(conn, spec.display));
  std::string setup =
      "SET client_encoding = 'UTF8'; SET bytea_output = 'hex'; SET standard_conforming_strings = "
      "on; SET synchronous_commit = on";
  if (!spec.schema.empty()) setup += "; SET search_path = " + QuoteIdentifier(spec.schema);
  RETURN_IF_ERROR(c->ExecScript(setup).WithContext("setting up a PostgreSQL session"));
  return c;
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool PgConnection::healthy() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

Status PgConnection::ErrorFrom(PGresult* result, std::string_view what) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = Trim(result != nullptr ? PQresultErrorMessage(result) : "");
  if (message.empty()) message = Trim(PQerrorMessage(conn_));
  last_sqlstate_ = state != nullptr ? state : "";
  last_connection_error_ = PQstatus(conn_) != CONNECTION_OK;
  if (result != nullptr) PQclear(result);
  if (last_connection_error_ || last_sqlstate_.empty()) {
    last_connection_error_ = true;
    return UnavailableError("lost the connection to PostgreSQL at " + display_ + " while " +
                            std::string(what) + ": " + message);
  }
  std::string_view code = last_sqlstate_;
  std::string text = std::string(what) + ": " + message;
  if (code.substr(0, 2) == "08" || code.substr(0, 3) == "57P" || code == "40001" ||
      code == "40P01" || code.substr(0, 2) == "53") {
    if (code.substr(0, 2) == "08" || code.substr(0, 3) == "57P") last_connection_error_ = true;
    return UnavailableError("PostgreSQL at " + display_ + ": " + text);
  }
  if (code == "57014") return DeadlineExceededError(text);  // statement_timeout, cancel
  if (code == "23505") return AlreadyExistsError(text);
  if (code.substr(0, 2) == "23" || code.substr(0, 2) == "22") return InvalidArgumentError(text);
  if (code == "XX001" || code == "XX002") return DataLossError(text);
  return InternalError("PostgreSQL: " + text);
}

struct PgConnection::Bound {
  int count = 0;
  std::vector<const char*> values;
  std::vector<int> lengths;
  const char* const* value_array() const { return count == 0 ? nullptr : values.data(); }
  const int* length_array() const { return count == 0 ? nullptr : lengths.data(); }
  const int* format_array = nullptr;  // binary (1) or text (0) per value
};

PgConnection::Bound PgConnection::Bind(const Params& params) {
  Bound b;
  b.count = static_cast<int>(params.size());
  b.values.resize(params.size());
  b.lengths.resize(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    b.values[i] = params.null_[i] ? nullptr : params.values_[i].data();
    b.lengths[i] = static_cast<int>(params.values_[i].size());
  }
  if (b.count > 0) b.format_array = params.binary_.data();
  return b;
}

Result<PgResult> PgConnection::Exec(const std::string& sql, const Params& params) {
  last_sqlstate_.clear();
  last_connection_error_ = false;
  const Bound b = Bind(params);
  PGresult* result = PQexecParams(conn_, sql.c_str(), b.count, nullptr, b.value_array(),
                                  b.length_array(), b.format_array, /*resultFormat=*/0);
  ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return ErrorFrom(result, "running a statement");
  }
  return PgResult(result);
}

Result<std::string> PgConnection::Prepare(const std::string& sql, int param_count) {
  auto it = prepared_.find(sql);
  if (it != prepared_.end()) return it->second;
  if (prepared_.size() >= kMaxPrepared) {
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) return std::string();
    RETURN_IF_ERROR(ExecScript("DEALLOCATE ALL"));
    prepared_.clear();
  }
  std::string name = "liaison_" + std::to_string(++next_statement_);
  last_sqlstate_.clear();
  last_connection_error_ = false;
  // No parameter types: the server infers them from the statement, as it does for Exec.
  PGresult* result = PQprepare(conn_, name.c_str(), sql.c_str(), param_count, nullptr);
  if (result == nullptr || PQresultStatus(result) != PGRES_COMMAND_OK) {
    return ErrorFrom(result, "preparing a statement");
  }
  PQclear(result);
  prepared_.emplace(sql, name);
  return name;
}

Result<PgResult> PgConnection::ExecPrepared(const std::string& sql, const Params& params) {
  const Bound b = Bind(params);
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(std::string name, Prepare(sql, b.count));
    if (name.empty()) return Exec(sql, params);
    last_sqlstate_.clear();
    last_connection_error_ = false;
    PGresult* result = PQexecPrepared(conn_, name.c_str(), b.count, b.value_array(),
                                      b.length_array(), b.format_array, /*resultFormat=*/0);
    ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return PgResult(result);
    Status error = ErrorFrom(result, "running a statement");
    // 26000: the server does not know the statement (e.g. a DISCARD ALL); 0A000: "cached plan
    // must not change result type" after a schema change. Forget it (its name is not reused)
    // and prepare it again, unless a transaction is now aborted.
    if (last_sqlstate_ == "26000" || last_sqlstate_ == "0A000") {
      prepared_.erase(sql);
      if (attempt == 0 && PQtransactionStatus(conn_) == PQTRANS_IDLE) continue;
    }
    return error;
  }
}

Status PgConnection::ExecScript(const std::string& sql) {
  last_sqlstate_.clear();
  last_connection_error_ = false;
  PGresult* result = PQexec(conn_, sql.c_str());
  ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return ErrorFrom(result, "running a statement");
  }
  PQclear(result);
  return Status::Ok();
}

Status PgConnection::CopyIn(const std::string& copy_sql, const std::string& data) {
  last_sqlstate_.clear();
  last_connection_error_ = false;
  PGresult* start = PQexec(conn_, copy_sql.c_str());
  if (start == nullptr || PQresultStatus(start) != PGRES_COPY_IN) {
    return ErrorFrom(start, "starting a COPY");
  }
  PQclear(start);
  // Blocking connection: PQputCopyData returns 1 once queued, -1 on failure.
  constexpr size_t kChunk = 1 << 20;
  bool sent = true;
  for (size_t off = 0; off < data.size() && sent; off += kChunk) {
    size_t n = std::min(kChunk, data.size() - off);
    sent = PQputCopyData(conn_, data.data() + off, static_cast<int>(n)) == 1;
  }
  if (PQputCopyEnd(conn_, sent ? nullptr : "client failed to send data") != 1) sent = false;
  // Drain every result (the COPY's own, then the end of the command).
  Status status;
  while (PGresult* result = PQgetResult(conn_)) {
    ExecStatusType st = PQresultStatus(result);
    if (st != PGRES_COMMAND_OK && status.ok()) {
      status = ErrorFrom(result, "copying rows");
    } else {
      PQclear(result);
    }
  }
  if (status.ok() && !sent) status = ErrorFrom(nullptr, "copying rows");
  return status;
}

CopyRows& CopyRows::Raw(std::string_view text) {
  if (!first_) data_ += '\t';
  first_ = false;
  data_.append(text);
  return *this;
}

CopyRows& CopyRows::Field(std::string_view text) {
  if (!first_) data_ += '\t';
  first_ = false;
  for (char ch : text) {
    switch (ch) {
      case '\\':
        data_ += "\\\\";
        break;
      case '\t':
        data_ += "\\t";
        break;
      case '\n':
        data_ += "\\n";
        break;
      case '\r':
        data_ += "\\r";
        break;
      default:
        data_ += ch;
    }
  }
  return *this;
}

CopyRows& CopyRows::Field(int64_t value) { return Raw(std::to_string(value)); }

void CopyRows::EndRow() {
  data_ += '\n';
  first_ = true;
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char ch : name) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
  return out;
}

}  // namespace liaison::storage::postgres
