"""Harness for end-to-end tests: runs real `liaison` hub processes and talks to them over HTTP.

Python 3 standard library only. Every hub gets a fresh temporary data directory, listens on
127.0.0.1 port 0 (the kernel picks a free port, which the hub prints on its first stdout line),
and is stopped with SIGTERM (graceful, exit status checked) or SIGKILL (crash tests).

    hub = Hub()                      # temp dir, binary from $LIAISON_BIN
    hub.init()                       # liaison init; remembers admin password, default collection
    hub.add_user("pub", "publisher") # liaison user add ... --password-stdin
    hub.start()                      # liaison serve --listen 127.0.0.1:0; waits for /healthz
    r = hub.request("GET", "/taxii2/", auth=hub.basic("pub"))
    hub.stop()                       # SIGTERM, waits, asserts a clean exit

Backends: with LIAISON_E2E_STORE=postgres every Hub gets its own database (CREATE DATABASE on the
cluster named by LIAISON_TEST_PG_DSN, dropped in cleanup) and passes `--store URL` to `serve` and to
every `liaison` command run through Hub.cli with `--data` this hub's directory (hub.key and other
files stay in the data directory). Without a DSN, or with a binary that has no `--store` option,
such hubs raise unittest.SkipTest with the reason. tests/e2e/CMakeLists.txt registers each module
twice: e2e_<module> (SQLite) and e2e_pg_<module> (PostgreSQL).

The raw store, beside the hub and the same way on both backends (for tests that inspect or tamper
with what is stored): hub.raw_sql("SELECT ... WHERE id = ?", oid) (SQLite through sqlite3,
PostgreSQL through psql on the hub's database and schema; rows as text), hub.raw_dump() /
hub.raw_find(needle) (every byte at rest: SQLite's files; pg_dump of the hub's schema and, when
readable here, the cluster's files), hub.snapshot(dir) (a consistent copy to edit), and on
PostgreSQL hub.pg_sessions() and hub.pg_block_connections() / pg_allow_connections().

HubTestCase starts one hub per test class with an admin, a publisher, a second publisher and a
reader, and checks after each test that the hub process is still alive (no crash).
"""

import base64
import datetime
import http.client
import json
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

TAXII = "application/taxii+json;version=2.1"
API_ROOT = "/api/"

# Seconds to wait for the hub to print its listening line and answer /healthz.
START_TIMEOUT = float(os.environ.get("LIAISON_E2E_START_TIMEOUT", "30"))
# Default socket timeout for requests; generous because the machine is shared.
REQUEST_TIMEOUT = float(os.environ.get("LIAISON_E2E_REQUEST_TIMEOUT", "60"))


def find_binary():
    """The liaison binary: $LIAISON_BIN, else the usual build directories."""
    path = os.environ.get("LIAISON_BIN")
    if path:
        return path
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    for build in ("build/release", "build/debug", "build"):
        candidate = os.path.join(root, build, "src", "cli", "liaison")
        if os.path.exists(candidate):
            return candidate
    raise RuntimeError("set LIAISON_BIN to the liaison binary")


# Which store backend hubs use: "sqlite" (default) or "postgres" (see the module doc).
STORE_BACKEND = os.environ.get("LIAISON_E2E_STORE", "sqlite").strip().lower() or "sqlite"
if STORE_BACKEND in ("postgresql", "pg"):
    STORE_BACKEND = "postgres"

_store_flag_cache = {}


def binary_has_store_flag(binary):
    """Whether `liaison serve` of this binary accepts --store (the PostgreSQL backend)."""
    if binary not in _store_flag_cache:
        try:
            p = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True,
                               timeout=30)
            _store_flag_cache[binary] = "--store" in (p.stdout + p.stderr)
        except (OSError, subprocess.SubprocessError):
            _store_flag_cache[binary] = False
    return _store_flag_cache[binary]


def pg_dsn():
    return os.environ.get("LIAISON_TEST_PG_DSN", "").strip()


def pg_url_for(database, dsn=None):
    """The cluster's DSN (a postgresql:// URL) with its database replaced by `database`."""
    from urllib.parse import urlsplit, urlunsplit
    parts = urlsplit(dsn or pg_dsn())
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


def psql(sql, database=None, check=True):
    """Runs one SQL command with psql against the test cluster; returns stdout (unaligned)."""
    url = pg_url_for(database) if database else pg_dsn()
    p = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qtAc", sql], capture_output=True,
                       text=True, timeout=120)
    if check and p.returncode != 0:
        raise HubError("psql %r failed (%d): %s" % (sql, p.returncode, p.stderr.strip()))
    return p.stdout


def pg_create_database(prefix="e2e"):
    """CREATE DATABASE with a fresh name on the test cluster; returns (name, URL)."""
    name = "%s_%d_%s" % (prefix, os.getpid(), secrets.token_hex(4))
    psql('CREATE DATABASE "%s"' % name)
    return name, pg_url_for(name)


def pg_drop_database(name):
    psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name, check=False)


def pg_split_store_url(url):
    """(libpq URL without our schema= parameter, schema, database name) of a --store URL."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    schema = "public"
    kept = []
    for k, v in params:
        if k == "schema":
            schema = v or "public"
        else:
            kept.append((k, v))
    database = parts.path.lstrip("/")
    return (urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), "")), schema,
            database)


def sql_quote_ident(name):
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value):
    """A Python value as a SQL literal both SQLite and PostgreSQL read (PostgreSQL: bytes)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return "'\\x%s'::bytea" % bytes(value).hex()
    text = str(value)
    if "\x00" in text:
        raise HubError("NUL in a SQL literal")
    return "'" + text.replace("'", "''") + "'"


def sql_bind(query, params):
    """Replaces each ? of query with the literal of the next parameter."""
    pieces = query.split("?")
    if len(pieces) - 1 != len(params):
        raise HubError("%d placeholders for %d parameters in %r" % (len(pieces) - 1, len(params),
                                                                   query))
    out = [pieces[0]]
    for value, rest in zip(params, pieces[1:]):
        out.append(sql_literal(value))
        out.append(rest)
    return "".join(out)


def sqlite_text(value):
    """A SQLite value as raw_sql returns it (text, like psql prints it)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return "\\x" + bytes(value).hex()
    return str(value)


PSQL_NULL = "\\N<null>"


def psql_rows(url, sql, schema=None, timeout=120):
    """Runs SQL with psql (search_path = schema when given); returns the rows as tuples of text
    (None for NULL), parsed from psql's CSV output."""
    import csv
    import io
    script = ""
    if schema:
        script = "SET search_path = %s;\n" % sql_quote_ident(schema)
    script += sql.rstrip().rstrip(";") + ";\n"
    p = subprocess.run(["psql", url, "-X", "-q", "-t", "--csv", "-v", "ON_ERROR_STOP=1",
                        "-P", "null=" + PSQL_NULL],
                       input=script, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise HubError("psql %r failed (%d): %s" % (sql[:300], p.returncode, p.stderr.strip()))
    rows = []
    for row in csv.reader(io.StringIO(p.stdout)):
        rows.append(tuple(None if v == PSQL_NULL else v for v in row))
    return rows


def pg_cluster_files_dir():
    """The directory holding the test cluster's files when they are readable here:
    $LIAISON_TEST_PG_DIR (scripts/pg-cluster.sh's directory: data/ and the server log), else
    the server's data_directory; None when neither can be read (e.g. a remote cluster)."""
    d = os.environ.get("LIAISON_TEST_PG_DIR", "").strip()
    if d and os.path.isdir(d):
        return d
    try:
        d = psql("SHOW data_directory").strip()
    except (HubError, OSError, subprocess.SubprocessError):
        return None
    if d and os.path.isdir(d) and os.access(d, os.R_OK | os.X_OK):
        return d
    return None


def pg_cluster_dump():
    """Yields ("cluster file <path>", bytes) for every file of the test cluster when its files
    are readable here (pg_cluster_files_dir()), after a CHECKPOINT so that heap and index pages are
    on disk and not only in the WAL and shared buffers; nothing otherwise."""
    root = pg_cluster_files_dir()
    if root is None:
        return
    psql("CHECKPOINT")
    for where, data in read_tree(root):
        yield "cluster file " + where, data


def find_in_parts(parts, needles):
    """({needle: [where found]}, [where searched]) over (where, bytes) pairs."""
    wanted = [n.encode("utf-8") if isinstance(n, str) else n for n in needles]
    found = {n: [] for n in needles}
    searched = []
    for where, data in parts:
        searched.append(where)
        for needle, raw in zip(needles, wanted):
            if raw in data:
                found[needle].append(where)
    return found, searched


def read_tree(root):
    """Yields (relative path, bytes) for every regular file under root; files that vanish or
    cannot be read while the server runs are skipped (PostgreSQL removes and recycles files)."""
    for dirpath, _, filenames in os.walk(root):
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            try:
                if not os.path.isfile(path) or os.path.islink(path):
                    continue
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            yield os.path.relpath(path, root), data


def new_store_args(test):
    """Store arguments for a brand-new hub a test creates itself with `liaison init --data DIR`:
    [] on SQLite (the store lives in DIR); on PostgreSQL ["--store", URL] of a fresh empty
    database, dropped when the test ends (test.addCleanup)."""
    if STORE_BACKEND != "postgres":
        return []
    require_postgres()
    name, url = pg_create_database("e2ecli")
    test.addCleanup(pg_drop_database, name)
    return ["--store", url]


def require_postgres(binary=None):
    """Raises unittest.SkipTest unless PostgreSQL hubs can run (DSN set, binary has --store)."""
    if not pg_dsn():
        raise unittest.SkipTest("LIAISON_TEST_PG_DSN is not set: PostgreSQL end-to-end tests "
                                "skipped (make test sets it)")
    binary = binary or find_binary()
    if not binary_has_store_flag(binary):
        raise unittest.SkipTest("%s has no --store option yet: PostgreSQL end-to-end tests "
                                "skipped" % binary)


class Response:
    """An HTTP response read completely: status, headers (case-insensitive get), raw body."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self._headers = headers  # list of (name, value)
        self.body = body

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self._headers:
            if k.lower() == name:
                return v
        return default

    def headers(self, name):
        name = name.lower()
        return [v for k, v in self._headers if k.lower() == name]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def describe(self):
        text = self.body[:2000].decode("utf-8", "replace")
        hdrs = "; ".join("%s: %s" % kv for kv in self._headers)
        return "HTTP %d %s [%s] %s" % (self.status, self.reason, hdrs, text)

    def __repr__(self):
        return "<Response %s>" % self.describe()


class HubError(RuntimeError):
    pass


class Hub:
    """One hub: its data directory, users, and (when started) its serve process."""

    def __init__(self, binary=None, data_dir=None, keep_dir=False, store_url=None):
        """store_url: a PostgreSQL URL to use instead of this hub's own database (several nodes
        of one hub share one); None: SQLite, or a fresh database when LIAISON_E2E_STORE=postgres.
        """
        self.binary = binary or find_binary()
        self.store_url = store_url
        self._own_database = None
        if store_url is None and STORE_BACKEND == "postgres":
            require_postgres(self.binary)
            self._own_database, self.store_url = pg_create_database()
        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.mkdtemp(prefix="liaison-e2e-")
            data_dir = os.path.join(self._tmp, "hub")
        self.data_dir = data_dir
        self.keep_dir = keep_dir
        self.proc = None
        self.port = None
        self.passwords = {}  # user -> password
        self.admin_user = "admin"
        self.default_collection = None
        self.init_output = ""
        self._stdout_lines = queue.Queue()
        self._log_path = os.path.join(self._tmp or os.path.dirname(data_dir), "hub-stderr.log")
        self._log_file = None
        self._starts = 0

    # ---------------------------------------------------------------------------- CLI

    def cli(self, *args, input=None, check=True, timeout=120):
        """Runs `liaison ARGS...`; returns the CompletedProcess (text mode). On a PostgreSQL hub,
        `--store URL` is added when ARGS name this hub's data directory with --data."""
        args = [str(a) for a in args]
        if self.store_url and "--store" not in args and any(
                a == "--data" and i + 1 < len(args) and args[i + 1] == self.data_dir
                for i, a in enumerate(args)):
            args += ["--store", self.store_url]
        proc = subprocess.run(
            [self.binary] + args,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise HubError(
                "liaison %s exited %d\nstdout: %s\nstderr: %s"
                % (" ".join(map(str, args)), proc.returncode, proc.stdout, proc.stderr)
            )
        return proc

    def init(self, org="E2E Test Org"):
        """liaison init; parses the admin password and the default collection id."""
        proc = self.cli("init", "--data", self.data_dir, "--org", org)
        out = proc.stdout + "\n" + proc.stderr
        self.init_output = out
        m = re.search(r"admin user '([^']+)' created with password: (\S+)", out)
        if not m:
            raise HubError("no admin password in init output:\n" + out)
        self.admin_user = m.group(1)
        self.passwords[self.admin_user] = m.group(2)
        uuid_re = r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
        self.default_collection = None
        for line in out.splitlines():
            m = re.search(r"(?<![-\w])" + uuid_re + r"\b", line)
            if m and "collection" in line.lower():
                self.default_collection = m.group(1)
                break
        return proc

    def resolve_default_collection(self):
        """Asks the running hub (as admin) for the collection whose alias is "default"."""
        r = self.request("GET", API_ROOT + "collections/", auth=self.basic(self.admin_user))
        if r.status != 200:
            raise HubError("cannot list collections: " + r.describe())
        for col in r.json().get("collections", []):
            if col.get("alias") == "default":
                if self.default_collection and self.default_collection != col["id"]:
                    raise HubError("init printed collection %s but the hub's default is %s"
                                   % (self.default_collection, col["id"]))
                self.default_collection = col["id"]
                return col["id"]
        raise HubError("no collection with alias 'default': " + r.describe())

    def add_user(self, name, role, password=None):
        password = password or ("pw-" + secrets.token_urlsafe(12))
        self.cli("user", "add", name, "--role", role, "--password-stdin", "--data", self.data_dir,
                 input=password + "\n")
        self.passwords[name] = password
        return password

    def create_apikey(self, user):
        proc = self.cli("apikey", "create", "--user", user, "--data", self.data_dir)
        m = re.search(r"\b(lsk_[A-Za-z0-9_.\-]+)", proc.stdout)
        if not m:
            raise HubError("no API key in output: " + proc.stdout + proc.stderr)
        return m.group(1)

    def create_collection(self, title, no_grants=False):
        """liaison collection create; with no_grants only admins may use the collection."""
        args = ["collection", "create", "--title", title, "--data", self.data_dir]
        if no_grants:
            args.append("--no-grants")
        proc = self.cli(*args)
        m = re.search(r"\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b",
                      proc.stdout)
        if not m:
            raise HubError("no collection id in output: " + proc.stdout + proc.stderr)
        return m.group(1)

    def share_store_of(self, other):
        """Makes this hub another node of `other` (PostgreSQL only): the same --store URL, a copy
        of other's data directory (hub.key and friends) and its users' passwords. Call after
        other.init() and before start(). test_multinode.py runs several nodes this way."""
        if not other.store_url:
            raise HubError("only PostgreSQL hubs can share a store (LIAISON_E2E_STORE=postgres)")
        if self._own_database:
            pg_drop_database(self._own_database)
            self._own_database = None
        self.store_url = other.store_url
        if os.path.isdir(other.data_dir):
            shutil.copytree(other.data_dir, self.data_dir, dirs_exist_ok=True)
        self.passwords = dict(other.passwords)
        self.admin_user = other.admin_user
        self.default_collection = other.default_collection

    # ---------------------------------------------------------------------------- process

    def start(self, extra_args=(), env=None, port=0):
        """Starts `liaison serve` on 127.0.0.1:PORT (default 0: the kernel picks one) and waits
        until /healthz answers 200. Restart a hub on its previous port with start(port=hub.port)
        when partners know its URL."""
        if self.proc is not None:
            raise HubError("hub already running")
        self._log_file = open(self._log_path, "ab")
        self._log_file.write(b"\n===== start %d =====\n" % self._starts)
        self._log_file.flush()
        self._starts += 1
        self._stdout_lines = queue.Queue()
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data", self.data_dir, "--listen", "127.0.0.1:%d" % port]
            + (["--store", self.store_url] if self.store_url else [])
            + list(extra_args),
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        lines = self._stdout_lines
        out = self.proc.stdout

        def pump():
            for raw in iter(out.readline, b""):
                lines.put(raw.decode("utf-8", "replace"))
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        self.port = None
        seen = []
        while self.port is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise HubError("hub printed no listening line; stdout %r\nstderr:\n%s"
                               % (seen, self.log_tail()))
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                rc = self.proc.wait()
                self.proc = None
                raise HubError("hub exited %s before listening; stdout %r\nstderr:\n%s"
                               % (rc, seen, self.log_tail()))
            seen.append(line)
            m = re.search(r"listening on https?://[^\s:]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
        while True:
            try:
                r = self.request("GET", "/healthz", timeout=5)
                if r.status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise HubError("hub never answered /healthz\n" + self.log_tail())
            time.sleep(0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30):
        """SIGTERM, then wait; returns the exit status (None if it had to be killed)."""
        if self.proc is None:
            return None
        proc = self.proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc = None
        self._close_proc()
        return rc

    def kill(self):
        """SIGKILL (kill -9) and reap."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._close_proc()

    def _close_proc(self):
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log_tail(self, n=4000):
        try:
            with open(self._log_path, "rb") as f:
                data = f.read()
            return data[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def cleanup(self):
        self.kill()
        if self._tmp and not self.keep_dir:
            shutil.rmtree(self._tmp, ignore_errors=True)
        if self._own_database and not self.keep_dir:
            pg_drop_database(self._own_database)
            self._own_database = None

    # ---------------------------------------------------------------------------- raw store
    # The hub's store as an operator (or an attacker) with the database in hand sees it, the same
    # way on both backends: SQL on the hub's own tables (SQLite: hub.db through Python's sqlite3;
    # PostgreSQL: psql on the hub's database with search_path = its schema), every byte of it at
    # rest (raw_dump), a consistent copy to edit (snapshot), and, on PostgreSQL, the database made
    # unreachable for this hub alone. Tests write portable SQL: both schemas use the same table
    # and column names (storage/sqlite/sqlite_schema.cc, storage/postgres/pg_schema.cc).

    @property
    def backend(self):
        """"postgres" when this hub's store is a PostgreSQL database, else "sqlite"."""
        return "postgres" if self.store_url else "sqlite"

    def sqlite_path(self):
        return os.path.join(self.data_dir, "hub.db")

    def sqlite_files(self):
        """hub.db and whichever of its -wal, -shm and -journal files exist."""
        base = self.sqlite_path()
        return [p for p in (base, base + "-wal", base + "-shm", base + "-journal")
                if os.path.exists(p)]

    @property
    def pg_database(self):
        """Name of this PostgreSQL hub's database."""
        return pg_split_store_url(self.store_url)[2]

    @property
    def pg_schema(self):
        """Schema holding this PostgreSQL hub's tables (the URL's schema=, default public)."""
        return pg_split_store_url(self.store_url)[1]

    def raw_sql(self, query, *params, timeout=120):
        """Runs one SQL statement directly on this hub's store, beside (not through) the hub,
        which may be running. `?` placeholders take `params` (str, int, bytes, None; write no
        literal ? in the query itself: on PostgreSQL the parameters are inlined). Returns the
        rows as tuples of text values (numbers and booleans as PostgreSQL prints them: SQLite
        booleans are 0/1, PostgreSQL's t/f; bytes as \\x<hex>; None for NULL). Statements without
        rows return []; use RETURNING to count what an UPDATE or DELETE touched. Raises HubError
        when the statement fails."""
        if self.backend == "sqlite":
            import sqlite3
            path = self.sqlite_path()
            if not os.path.exists(path):
                raise HubError("no SQLite store at %s" % path)
            con = sqlite3.connect(path, timeout=60)
            try:
                with con:
                    rows = con.execute(query, params).fetchall()
            except sqlite3.Error as e:
                raise HubError("sqlite3 %r failed: %s" % (query, e)) from e
            finally:
                con.close()
            return [tuple(sqlite_text(v) for v in row) for row in rows]
        url, schema, _ = pg_split_store_url(self.store_url)
        return psql_rows(url, sql_bind(query, params), schema=schema, timeout=timeout)

    def raw_dump(self, cluster_files=True):
        """Yields (where, bytes) for every byte of this hub's data at rest, as an attacker with
        the database (a dump, or the server's disk) would read it. SQLite: hub.db and its -wal,
        -shm and -journal files. PostgreSQL: `pg_dump --schema=<the hub's schema>` of its database
        and, when cluster_files and the cluster's files are readable here (pg_cluster_dump()),
        every file of the cluster (WAL included; other tests' databases too)."""
        if self.backend == "sqlite":
            files = self.sqlite_files()
            if not files:
                raise HubError("no SQLite files in %s" % self.data_dir)
            for path in files:
                with open(path, "rb") as f:
                    yield os.path.basename(path), f.read()
            return
        url, schema, _ = pg_split_store_url(self.store_url)
        p = subprocess.run(["pg_dump", "--schema=" + schema, url], capture_output=True,
                           timeout=300)
        if p.returncode != 0:
            raise HubError("pg_dump failed (%d): %s" % (p.returncode,
                                                      p.stderr.decode("utf-8", "replace")))
        yield "pg_dump --schema=%s" % schema, p.stdout
        if cluster_files:
            yield from pg_cluster_dump()

    def raw_find(self, *needles, cluster_files=True):
        """Searches raw_dump(cluster_files) for each needle (bytes or str); returns ({needle:
        [where found]}, [every part searched]) so a test can say what it looked at."""
        return find_in_parts(self.raw_dump(cluster_files=cluster_files), needles)

    def raw_dump_has_cluster_files(self):
        """Whether raw_dump() includes the database server's files (always for SQLite)."""
        return self.backend == "sqlite" or pg_cluster_files_dir() is not None

    def snapshot(self, data_dir):
        """A consistent copy of this hub, which may keep running: its data directory (keys)
        copied to `data_dir`, and its store copied too (SQLite: online backup of hub.db;
        PostgreSQL: pg_dump of its schema restored into a fresh database). Returns a Hub (not
        started) on the copy, with this hub's passwords; edit it with raw_sql, run commands with
        cli(..., "--data", copy.data_dir), and call cleanup() (removes the copy's database, not
        data_dir's parent)."""
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.copytree(self.data_dir, data_dir, ignore=shutil.ignore_patterns("hub.db*"))
        if self.backend == "sqlite":
            import sqlite3
            copy = Hub(binary=self.binary, data_dir=data_dir, store_url="")
            copy.store_url = None
            source = sqlite3.connect("file:%s?mode=ro" % self.sqlite_path(), uri=True, timeout=60)
            target = sqlite3.connect(copy.sqlite_path())
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
        else:
            url, schema, _ = pg_split_store_url(self.store_url)
            name, _ = pg_create_database("e2ecopy")
            copy_url = pg_url_for(name, dsn=self.store_url)  # keeps ?schema=
            copy = Hub(binary=self.binary, data_dir=data_dir, store_url=copy_url)
            copy._own_database = name
            try:
                target_url = pg_url_for(name)
                if schema == "public":
                    psql("DROP SCHEMA public CASCADE", database=name)
                dump = subprocess.run(["pg_dump", "--schema=" + schema, url], capture_output=True,
                                      timeout=300)
                if dump.returncode != 0:
                    raise HubError("pg_dump failed: %s" % dump.stderr.decode("utf-8", "replace"))
                restore = subprocess.run(["psql", target_url, "-X", "-q", "-v", "ON_ERROR_STOP=1"],
                                         input=dump.stdout, capture_output=True, timeout=300)
                if restore.returncode != 0:
                    raise HubError("restoring the dump failed: %s"
                                   % restore.stderr.decode("utf-8", "replace"))
            except Exception:
                copy.cleanup()
                raise
        copy.passwords = dict(self.passwords)
        copy.admin_user = self.admin_user
        copy.default_collection = self.default_collection
        return copy

    def pg_sessions(self):
        """PostgreSQL: this hub's sessions on its database, as (pid, state, in_transaction,
        wrote, query) from pg_stat_activity; `wrote` is true when the session's open transaction
        already holds a transaction id (it has written something)."""
        rows = psql_rows(pg_dsn(), sql_bind(
            "SELECT pid, coalesce(state, ''), xact_start IS NOT NULL, backend_xid IS NOT NULL, "
            "left(coalesce(query, ''), 200) FROM pg_stat_activity "
            "WHERE datname = ? AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
            (self.pg_database,)))
        return [(int(r[0]), r[1], r[2] == "t", r[3] == "t", r[4]) for r in rows]

    def pg_block_connections(self):
        """PostgreSQL: makes this hub's database unreachable for this hub alone (the cluster and
        other databases keep running): refuses new connections and terminates the open ones."""
        db = self.pg_database
        psql('ALTER DATABASE "%s" WITH ALLOW_CONNECTIONS false' % db)
        psql(sql_bind("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                      "WHERE datname = ? AND pid <> pg_backend_pid()", (db,)))

    def pg_allow_connections(self):
        psql('ALTER DATABASE "%s" WITH ALLOW_CONNECTIONS true' % self.pg_database)

    # ---------------------------------------------------------------------------- HTTP

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def basic(self, user, password=None):
        if password is None:
            password = self.passwords[user]
        token = base64.b64encode(("%s:%s" % (user, password)).encode("utf-8")).decode("ascii")
        return "Basic " + token

    def connection(self, timeout=REQUEST_TIMEOUT):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, auth=None, headers=None, accept=TAXII,
                content_type=None, timeout=REQUEST_TIMEOUT, conn=None):
        """One request. `auth` is a full Authorization value (see basic()) or None. `body` may be
        bytes, str, or a JSON-serialisable object (sent minified). Returns a Response."""
        hdrs = {}
        if accept is not None:
            hdrs["Accept"] = accept
        if auth is not None:
            hdrs["Authorization"] = auth
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        if isinstance(body, str):
            body = body.encode("utf-8")
        # content_type None: the TAXII media type when there is a body; "": no Content-Type.
        if content_type is None and body is not None:
            content_type = TAXII
        if content_type:
            hdrs["Content-Type"] = content_type
        if headers:
            hdrs.update(headers)
        own = conn is None
        if own:
            conn = self.connection(timeout)
        try:
            try:
                conn.request(method, path, body=body, headers=hdrs)
            except (BrokenPipeError, ConnectionResetError) as send_error:
                # The server may answer (e.g. 413) and close before reading the whole body: read
                # that answer if it is there.
                try:
                    resp = conn.getresponse()
                except (OSError, http.client.HTTPException):
                    raise send_error
            else:
                resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, resp.reason, resp.getheaders(), data)
        finally:
            if own:
                conn.close()


# -------------------------------------------------------------------------------- STIX helpers

def stix_now(offset_seconds=0.0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def stix_time(year=2024, month=1, day=1, second=0, millis=0):
    return "%04d-%02d-%02dT00:00:%02d.%03dZ" % (year, month, day, second, millis)


def parse_time(text):
    """RFC 3339 UTC timestamp (any sub-second precision) -> microseconds since the epoch."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z", text)
    if not m:
        raise ValueError("not a STIX/TAXII timestamp: %r" % text)
    dt = datetime.datetime(*(int(g) for g in m.groups()[:6]), tzinfo=datetime.timezone.utc)
    frac = (m.group(7) or "").ljust(6, "0")[:6]
    return int(dt.timestamp()) * 1000000 + int(frac)


def indicator(n=0, modified=None, created=None, **extra):
    """A valid STIX 2.1 indicator with a unique id."""
    created = created or stix_time(2024, 1, 1)
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--%s" % uuid.uuid4(),
        "created": created,
        "modified": modified or created,
        "name": "e2e indicator %d" % n,
        "indicator_types": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '10.%d.%d.%d']" % ((n >> 16) & 255, (n >> 8) & 255, n & 255),
        "pattern_type": "stix",
        "valid_from": created,
    }
    obj.update(extra)
    return obj


def malware(name="e2e malware", modified=None):
    created = stix_time(2024, 1, 2)
    return {
        "type": "malware",
        "spec_version": "2.1",
        "id": "malware--%s" % uuid.uuid4(),
        "created": created,
        "modified": modified or created,
        "name": name,
        "is_family": False,
    }


def envelope(objects):
    return {"objects": list(objects)}


def minified(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# -------------------------------------------------------------------------------- test base

class HubTestCase(unittest.TestCase):
    """One hub per test class: users admin, pub (publisher), pub2 (publisher), reader (reader)."""

    hub = None
    col = None  # default collection id

    @classmethod
    def setUpClass(cls):
        cls.hub = Hub()
        try:
            cls.hub.init()
            cls.hub.add_user("pub", "publisher")
            cls.hub.add_user("pub2", "publisher")
            cls.hub.add_user("reader", "reader")
            cls.prepare_hub(cls.hub)
            cls.hub.start()
            cls.hub.resolve_default_collection()
        except Exception:
            cls.hub.cleanup()
            raise
        cls.col = cls.hub.default_collection

    @classmethod
    def prepare_hub(cls, hub):
        """Hook: more CLI set-up before serve starts."""

    @classmethod
    def tearDownClass(cls):
        hub = cls.hub
        try:
            if hub.alive():
                rc = hub.stop()
                if rc != 0:
                    raise AssertionError("hub exited %r on SIGTERM\n%s" % (rc, hub.log_tail()))
        finally:
            hub.cleanup()

    def tearDown(self):
        # No input may crash the hub: it must still be running and serving.
        if self.hub.proc is not None:
            self.assertTrue(self.hub.alive(), "hub died:\n" + self.hub.log_tail())

    # Shorthands ---------------------------------------------------------------------

    def auth(self, user):
        return self.hub.basic(user)

    def get(self, path, user="admin", **kw):
        return self.hub.request("GET", path, auth=self.auth(user) if user else None, **kw)

    def post(self, path, body, user="pub", **kw):
        return self.hub.request("POST", path, body=body, auth=self.auth(user) if user else None,
                                **kw)

    def objects_path(self, col=None, query=""):
        return "%scollections/%s/objects/%s" % (API_ROOT, col or self.col, query)

    def publish(self, objects, col=None, user="pub"):
        """POSTs an envelope; asserts 202 and a complete status; returns the status resource."""
        r = self.post(self.objects_path(col), envelope(objects), user=user)
        self.assertEqual(r.status, 202, r.describe())
        self.assertTaxiiContentType(r)
        status = r.json()
        self.assertEqual(status.get("status"), "complete", status)
        return status

    def assertTaxiiContentType(self, r):
        ct = (r.header("Content-Type") or "").replace(" ", "").lower()
        self.assertTrue(ct.startswith("application/taxii+json"), r.describe())
        self.assertIn("version=2.1", ct, r.describe())

    def assertTaxiiError(self, r, status):
        """TAXII 2.1 section 3.6.1: an error message with a title, as application/taxii+json."""
        self.assertEqual(r.status, status, r.describe())
        self.assertTaxiiContentType(r)
        try:
            body = r.json()
        except ValueError:
            self.fail("error body is not JSON: " + r.describe())
        self.assertIsInstance(body, dict, r.describe())
        self.assertIsInstance(body.get("title"), str, r.describe())
        self.assertTrue(body["title"], r.describe())
        if "http_status" in body:
            # TAXII 2.1 defines http_status as a string.
            self.assertEqual(str(body["http_status"]), str(status), r.describe())
        for key in ("description", "error_id", "error_code", "external_details"):
            if key in body:
                self.assertIsInstance(body[key], str, r.describe())
        if "details" in body:
            self.assertIsInstance(body["details"], dict, r.describe())
        return body

    def assertServing(self):
        self.assertTrue(self.hub.alive(), "hub died:\n" + self.hub.log_tail())
        r = self.get(API_ROOT, user="reader")
        self.assertEqual(r.status, 200, r.describe())


def read_all(test, path_base, user="admin", limit=None, extra="", max_pages=100000):
    """Pages through objects (or manifest) with limit/next; returns the list of pages' JSON."""
    pages = []
    nxt = None
    for _ in range(max_pages):
        params = []
        if extra:
            params.append(extra)
        if limit is not None:
            params.append("limit=%d" % limit)
        if nxt is not None:
            params.append("next=" + urlquote(nxt))
        path = path_base + ("?" + "&".join(params) if params else "")
        r = test.get(path, user=user)
        test.assertEqual(r.status, 200, r.describe())
        body = r.json()
        pages.append((r, body))
        if not body.get("more"):
            break
        nxt = body.get("next")
        test.assertIsInstance(nxt, str, "more=true without next: %r" % body)
    else:
        test.fail("paging did not end")
    return pages


def urlquote(s):
    from urllib.parse import quote
    return quote(s, safe="")


def raw_exchange(port, data, timeout=10, shutdown_write=False):
    """Sends raw bytes on a fresh TCP connection and returns what the server sends back until it
    closes or the timeout passes (b"" when it closes without answering)."""
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
            if shutdown_write:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, rest = out.partition(b"\r\n\r\n")
                m = re.search(rb"content-length:\s*(\d+)", head, re.I)
                if m and len(rest) >= int(m.group(1)):
                    break
    return out
