"""Crash test (issue 2, issue 5): kill -9 the hub during a stream of POSTs, restart it on the same
store, and check that every object whose POST returned a "complete" status listing it among the
successes is there, that each request's objects were committed all together or not at all, and
that the store is consistent afterwards. Repeated several times on the same store.

On PostgreSQL the hub is a client of the database server: each kill lands while one of the hub's
sessions has a write transaction open (the hub is frozen with SIGSTOP until pg_stat_activity shows
a session holding a transaction id, then killed), the server must drop the dead hub's sessions
(nothing left idle in transaction), and the database unreachable for the hub makes it answer 503
with a TAXII error body (not hang), then recover without losing anything acknowledged. SQLite-only
checks (PRAGMA integrity_check, a corrupt file header) have PostgreSQL counterparts (amcheck on
every index, a schema newer than the binary).
"""

import glob
import http.client
import os
import random
import signal
import sys
import threading
import time
import unittest

from hub import API_ROOT, Hub, envelope, indicator, read_all

# PostgreSQL: how long a round may try to catch the hub with a write transaction open (seconds).
MID_WRITE_TIMEOUT = float(os.environ.get("LIAISON_CRASH_MID_WRITE_TIMEOUT", "60"))

ROUNDS = int(os.environ.get("LIAISON_CRASH_ROUNDS", "4"))
WRITERS = 2
BATCH = 100


class Writer(threading.Thread):
    """Posts envelopes until told to stop or the hub goes away; records what was acknowledged."""

    def __init__(self, hub, col, auth, seed, stop):
        super().__init__(daemon=True)
        self.hub, self.col, self.auth, self.stop = hub, col, auth, stop
        self.rng = random.Random(seed)
        self.acked = {}        # object id -> object
        self.status_ids = []   # status resources of acknowledged requests
        self.unacked = []      # [ids] of requests sent without a complete answer
        self.errors = []
        self.n = seed * 10000000

    def run(self):
        path = "%scollections/%s/objects/" % (API_ROOT, self.col)
        conn = None
        while not self.stop.is_set():
            objs = []
            for _ in range(self.rng.randint(1, BATCH)):
                objs.append(indicator(self.n))
                self.n += 1
            try:
                if conn is None:
                    conn = self.hub.connection(timeout=30)
                r = self.hub.request("POST", path, body=envelope(objs), auth=self.auth,
                                     conn=conn)
            except (OSError, http.client.HTTPException):
                # The hub died mid-request: this batch's fate is unknown.
                self.unacked.append([o["id"] for o in objs])
                return
            if r.status != 202:
                self.unacked.append([o["id"] for o in objs])
                if r.status >= 500 or r.status in (400, 401, 403, 404):
                    self.errors.append(r.describe())
                return
            try:
                status = r.json()
            except ValueError:
                self.errors.append("202 without a JSON status: " + r.describe())
                return
            successes = {s["id"] for s in status.get("successes", [])}
            if status.get("status") == "complete":
                for o in objs:
                    if o["id"] in successes:
                        self.acked[o["id"]] = o
                self.status_ids.append(status["id"])
                if len(successes) != len(objs):
                    self.errors.append("not every valid object succeeded: %r" % status)
            else:
                self.unacked.append([o["id"] for o in objs])
        if conn is not None:
            conn.close()


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.hub = Hub()
        self.hub.init()
        self.hub.add_user("pub", "publisher")
        self.col = None  # resolved once the hub runs

    def tearDown(self):
        self.hub.cleanup()

    def get(self, path, user="admin"):
        return self.hub.request("GET", path, auth=self.hub.basic(user))

    def present_ids(self):
        pages = read_all(self, "%scollections/%s/manifest/" % (API_ROOT, self.col), limit=10000)
        ids = [e["id"] for _, body in pages for e in body.get("objects", [])]
        self.assertEqual(len(ids), len(set(ids)), "manifest repeats objects")
        return set(ids)

    def test_kill9_during_post_stream(self):
        rng = random.Random(20261129)
        acked = {}
        unacked = []
        status_ids = []
        mid_write_kills = 0
        auth = self.hub.basic("pub")
        for round_no in range(ROUNDS):
            self.hub.start()
            self.col = self.col or self.hub.resolve_default_collection()
            stop = threading.Event()
            writers = [Writer(self.hub, self.col, auth, round_no * WRITERS + w + 1, stop)
                       for w in range(WRITERS)]
            for w in writers:
                w.start()
            # Let the stream get going (some acknowledged posts), then kill at a random moment.
            deadline = time.monotonic() + 60
            while (sum(len(w.acked) for w in writers) < 3 * BATCH
                   and time.monotonic() < deadline and any(w.is_alive() for w in writers)):
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.5))
            if self.hub.backend == "postgres":
                caught = self.kill_mid_write(rng)
                mid_write_kills += caught is not None
                sys.stderr.write("round %d: killed %s\n" % (round_no, caught or
                                 "without catching a write transaction open"))
                # The server notices the dead client and rolls its transactions back: no session
                # of the killed hub may linger (idle in transaction, holding locks).
                self.wait_sessions_gone(round_no)
            else:
                self.hub.kill()
            stop.set()
            for w in writers:
                w.join(timeout=60)
                self.assertFalse(w.is_alive(), "writer hung")
                self.assertFalse(w.errors, w.errors)
                acked.update(w.acked)
                unacked += w.unacked
                status_ids += w.status_ids
            self.assertGreater(len(acked), 0, "no POST was acknowledged:\n" + self.hub.log_tail())

            # Restart on the same data: the store must open cleanly and hold every acked object.
            self.hub.start()
            present = self.present_ids()
            missing = set(acked) - present
            self.assertFalse(missing, "round %d: %d acknowledged objects lost after kill -9, e.g. %s"
                             % (round_no, len(missing), sorted(missing)[:3]))
            for ids in unacked:
                n = sum(1 for i in ids if i in present)
                self.assertIn(n, (0, len(ids)),
                              "round %d: a request was half committed (%d of %d objects)"
                              % (round_no, n, len(ids)))
            sys.stderr.write("round %d: %d objects acknowledged so far, %d requests unanswered "
                             "at the kill, %d objects present\n"
                             % (round_no, len(acked), len(unacked), len(present)))
            # Spot-check contents and status resources.
            sample = rng.sample(sorted(acked), min(50, len(acked)))
            for oid in sample:
                r = self.hub.request("GET", "%scollections/%s/objects/%s/" % (API_ROOT, self.col,
                                                                              oid), auth=auth)
                self.assertEqual(r.status, 200, r.describe())
                self.assertEqual(r.json()["objects"], [acked[oid]])
            for sid in rng.sample(status_ids, min(10, len(status_ids))):
                r = self.hub.request("GET", "%sstatus/%s/" % (API_ROOT, sid), auth=auth)
                self.assertEqual(r.status, 200, "status lost: " + r.describe())
                self.assertEqual(r.json().get("status"), "complete")
            # Alternate how the verified hub goes down: crash again, or a graceful stop.
            if round_no % 2:
                self.hub.kill()
            else:
                self.assertEqual(self.hub.stop(), 0, self.hub.log_tail())

        if self.hub.backend == "postgres":
            self.assertGreater(mid_write_kills, 0, "no kill landed during a write transaction")
        self.assertStoreConsistent()

    # Helpers ---------------------------------------------------------------------------------

    def kill_mid_write(self, rng):
        """PostgreSQL: freezes the hub (SIGSTOP) until one of its sessions is inside a
        transaction that has written (pg_stat_activity.backend_xid set), then SIGKILLs it; returns
        a description of that session, or None when none was caught within MID_WRITE_TIMEOUT (the
        hub is then killed anyway)."""
        proc = self.hub.proc
        deadline = time.monotonic() + MID_WRITE_TIMEOUT
        caught = None
        while caught is None and time.monotonic() < deadline and proc.poll() is None:
            proc.send_signal(signal.SIGSTOP)
            try:
                for pid, state, in_xact, wrote, query in self.hub.pg_sessions():
                    if in_xact and wrote:
                        caught = "with session %d %s in a write transaction (%s)" % (
                            pid, state, query.split("\n")[0][:60])
                        break
            finally:
                if caught is None:
                    proc.send_signal(signal.SIGCONT)
            if caught is None:
                time.sleep(rng.uniform(0.0, 0.02))
        self.hub.kill()  # SIGKILL also ends a stopped process
        return caught

    def wait_sessions_gone(self, round_no, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            left = self.hub.pg_sessions()
            if not left:
                return
            if time.monotonic() > deadline:
                self.fail("round %d: sessions of the killed hub still open after %d s: %r"
                          % (round_no, timeout, left))
            time.sleep(0.1)

    def assertStoreConsistent(self):
        """With the hub stopped: the backend's own integrity check (SQLite: PRAGMA
        integrity_check of every *.db file; PostgreSQL: amcheck's bt_index_check on every index of
        the hub's schema, when the server has amcheck), the invariants both schemas share, and
        `liaison audit verify`."""
        hub = self.hub
        if hub.backend == "sqlite":
            import sqlite3
            dbs = glob.glob(os.path.join(hub.data_dir, "*.db"))
            self.assertTrue(dbs, os.listdir(hub.data_dir))
            for db in dbs:
                con = sqlite3.connect(db)
                try:
                    self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
                finally:
                    con.close()
        elif hub.raw_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'amcheck'"):
            # In a schema of its own, so the hub's schema holds only the hub's tables.
            hub.raw_sql("CREATE SCHEMA IF NOT EXISTS e2e_amcheck")
            hub.raw_sql("CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA e2e_amcheck")
            indexes = hub.raw_sql(
                "SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = "
                "i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am am ON "
                "am.oid = c.relam WHERE n.nspname = ? AND am.amname = 'btree'", hub.pg_schema)
            self.assertTrue(indexes, "no indexes in schema %s" % hub.pg_schema)
            for (index,) in indexes:
                hub.raw_sql("SELECT e2e_amcheck.bt_index_check(?::regclass, true)", index)
        else:
            sys.stderr.write("amcheck is not available: PostgreSQL indexes not verified\n")
        # Exactly one newest and one oldest version per object.
        bad = hub.raw_sql(
            "SELECT coll, id FROM objects GROUP BY coll, id "
            "HAVING SUM(CASE WHEN is_last THEN 1 ELSE 0 END) <> 1 "
            "OR SUM(CASE WHEN is_first THEN 1 ELSE 0 END) <> 1 LIMIT 5")
        self.assertEqual(bad, [], "objects whose is_last/is_first flags are inconsistent")
        # The collection's date_added high-water mark covers every object it holds.
        bad = hub.raw_sql(
            "SELECT c.id FROM collections c WHERE c.last_date_added < "
            "(SELECT COALESCE(MAX(o.date_added), 0) FROM objects o WHERE o.coll = c.seq)")
        self.assertEqual(bad, [], "collections behind their own objects' date_added")
        p = hub.cli("audit", "verify", "--data", hub.data_dir, check=False)
        self.assertEqual(p.returncode, 0, (p.stdout, p.stderr))
        self.assertIn("audit chain OK", p.stdout)


class StoreTroubleTest(unittest.TestCase):
    """The store failing under the hub, on each backend in its own way."""

    def setUp(self):
        self.hub = Hub()
        self.addCleanup(self.hub.cleanup)
        self.hub.init()
        self.hub.add_user("pub", "publisher")
        self.auth = self.hub.basic("pub")

    def objects_path(self):
        return "%scollections/%s/objects/" % (API_ROOT, self.hub.default_collection)

    def assertTaxii503(self, r, what):
        self.assertEqual(r.status, 503, "%s: %s" % (what, r.describe()))
        ct = (r.header("Content-Type") or "").replace(" ", "").lower()
        self.assertTrue(ct.startswith("application/taxii+json"), r.describe())
        body = r.json()
        self.assertIsInstance(body.get("title"), str, r.describe())
        self.assertTrue(body["title"], r.describe())

    def test_database_unreachable_answers_503_then_recovers(self):
        if self.hub.backend == "sqlite":
            self.skipTest("SQLite is a file inside the hub process: there is no database server "
                          "to become unreachable")
        hub = self.hub
        hub.start()
        hub.resolve_default_collection()
        before = [indicator(i) for i in range(20)]
        r = hub.request("POST", self.objects_path(), body=envelope(before), auth=self.auth)
        self.assertEqual(r.status, 202, r.describe())
        self.assertEqual(r.json().get("success_count"), len(before), r.describe())

        hub.pg_block_connections()
        try:
            # Within the request timeout (a hang fails here): 503 and a TAXII error body.
            r = hub.request("GET", self.objects_path(), auth=self.auth, timeout=60)
            self.assertTaxii503(r, "read while the database refuses connections")
            during = [indicator(100 + i) for i in range(5)]
            r = hub.request("POST", self.objects_path(), body=envelope(during), auth=self.auth,
                            timeout=60)
            self.assertTaxii503(r, "write while the database refuses connections")
            self.assertTrue(hub.alive(), hub.log_tail())
        finally:
            hub.pg_allow_connections()

        # Reconnects by itself: serving again, nothing acknowledged lost, writes accepted.
        deadline = time.monotonic() + 60
        while True:
            r = hub.request("GET", self.objects_path() + "?limit=1000", auth=self.auth)
            if r.status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(r.status, 200, "no recovery after the database came back: "
                         + r.describe())
        ids = {o["id"] for o in r.json().get("objects", [])}
        self.assertTrue({o["id"] for o in before} <= ids, "acknowledged objects lost")
        self.assertFalse({o["id"] for o in during} & ids, "a write answered 503 was committed")
        after = [indicator(200 + i) for i in range(5)]
        r = hub.request("POST", self.objects_path(), body=envelope(after), auth=self.auth)
        self.assertEqual(r.status, 202, r.describe())
        self.assertEqual(r.json().get("success_count"), len(after), r.describe())
        self.assertEqual(hub.stop(), 0, hub.log_tail())

    def test_unusable_store_is_refused_at_start(self):
        """SQLite: hub.db with a corrupt header. PostgreSQL (no file header to corrupt): a schema
        version newer than the binary. Either way `liaison serve` exits non-zero at once with a
        one-line reason, neither crashing nor serving."""
        hub = self.hub
        if hub.backend == "sqlite":
            with open(hub.sqlite_path(), "r+b") as f:
                f.write(b"this is not a SQLite database!!!" * 4)
            for suffix in ("-wal", "-shm"):
                if os.path.exists(hub.sqlite_path() + suffix):
                    os.remove(hub.sqlite_path() + suffix)
        else:
            rows = hub.raw_sql("UPDATE liaison_schema SET version = 999 RETURNING version")
            self.assertEqual(len(rows), 1, rows)
        try:
            p = hub.cli("serve", "--data", hub.data_dir, "--listen", "127.0.0.1:0", check=False,
                        timeout=60)
        except Exception as e:  # subprocess.TimeoutExpired: it served (or hung) instead
            self.fail("serve on an unusable %s store did not exit: %s" % (hub.backend, e))
        self.assertGreater(p.returncode, 0, (p.returncode, p.stdout, p.stderr))
        self.assertIn("liaison:", p.stderr)
        self.assertNotIn("listening on", p.stdout)
        if hub.backend == "postgres":
            self.assertIn("999", p.stderr)


if __name__ == "__main__":
    unittest.main()
