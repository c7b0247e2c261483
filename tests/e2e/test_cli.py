"""The `liaison` command forms that scripts rely on (issue 2, "Required CLI"): init, user add,
serve, validate, publish, and --help everywhere.

On PostgreSQL (e2e_pg_test_cli) the hubs these tests create with `init --data DIR` also get
`--store URL` of a fresh database (hub.new_store_args), and so does every command run on them.
"""

import json
import os
import subprocess
import tempfile
import unittest

from hub import API_ROOT, HubTestCase, envelope, find_binary, indicator, malware, new_store_args


def bundle(objects):
    return {"type": "bundle", "id": "bundle--6f0e3c1a-1b2c-4d3e-8f40-5a6b7c8d9e0f",
            "objects": objects}


class CliOfflineTest(unittest.TestCase):
    """Commands that need no running hub."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="liaison-cli-")
        self.bin = find_binary()

    def tearDown(self):
        self.tmp.cleanup()

    def run_cli(self, *args, input=None):
        return subprocess.run([self.bin] + list(args), input=input, capture_output=True,
                              text=True, timeout=120)

    def write(self, name, content):
        path = os.path.join(self.tmp.name, name)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(path, mode) as f:
            f.write(content if isinstance(content, (bytes, str)) else json.dumps(content))
        return path

    def test_help_everywhere(self):
        for args in ([], ["init"], ["user"], ["user", "add"], ["serve"], ["validate"],
                     ["publish"], ["apikey"], ["collection"], ["grant"]):
            p = self.run_cli(*(args + ["--help"]))
            self.assertEqual(p.returncode, 0, (args, p.stdout, p.stderr))
            self.assertIn("Usage", p.stdout + p.stderr, args)

    def test_unknown_command_is_usage_error(self):
        p = self.run_cli("frobnicate")
        self.assertNotEqual(p.returncode, 0)

    def test_init_creates_hub_and_refuses_second_time(self):
        data = os.path.join(self.tmp.name, "hub")
        store = new_store_args(self)
        p = self.run_cli("init", "--data", data, "--org", "Org A", *store)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"admin user 'admin' created with password: \S{12,}")
        password = p.stdout.split("created with password:", 1)[1].split()[0]
        p2 = self.run_cli("init", "--data", data, "--org", "Org A", *store)
        self.assertNotEqual(p2.returncode, 0, "init over an existing hub must refuse")
        self.assertIn("liaison:", p2.stderr)
        # The first admin password still works: the second init changed nothing.
        self.assertNotIn("created with password", p2.stdout)
        if store:
            # The hub lives in the database: a new data directory does not make room for a
            # second hub in it.
            p3 = self.run_cli("init", "--data", os.path.join(self.tmp.name, "hub-b"), *store)
            self.assertNotEqual(p3.returncode, 0, "init over a database holding a hub must refuse")
            self.assertIn("liaison:", p3.stderr)
            self.assertNotIn("created with password", p3.stdout)
        p = self.run_cli("user", "add", "r1", "--role", "reader", "--password-stdin", "--data",
                         data, *store, input="secret-password-r1\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.run_cli("user", "list", "--data", data, *store)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("admin", p.stdout)
        self.assertIn("r1", p.stdout)
        self.assertTrue(password)

    def test_init_with_custom_admin_user(self):
        data = os.path.join(self.tmp.name, "hub2")
        p = self.run_cli("init", "--data", data, "--admin-user", "root-admin",
                         *new_store_args(self))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("admin user 'root-admin' created with password:", p.stdout)

    def test_user_add_roles_and_errors(self):
        data = os.path.join(self.tmp.name, "hub3")
        store = new_store_args(self)
        self.assertEqual(self.run_cli("init", "--data", data, *store).returncode, 0)
        for name, role in (("a1", "admin"), ("p1", "publisher"), ("r1", "reader")):
            p = self.run_cli("user", "add", name, "--role", role, "--password-stdin", "--data",
                             data, *store, input="secret-password-%s\n" % name)
            self.assertEqual(p.returncode, 0, (name, p.stderr))
        p = self.run_cli("user", "add", "p1", "--role", "reader", "--password-stdin", "--data",
                         data, *store, input="another-password\n")
        self.assertNotEqual(p.returncode, 0, "duplicate user must be refused")
        p = self.run_cli("user", "add", "x1", "--role", "superuser", "--password-stdin",
                         "--data", data, *store, input="password-x1\n")
        self.assertNotEqual(p.returncode, 0, "unknown role must be refused")
        p = self.run_cli("user", "add", "x2", "--role", "reader", "--password-stdin", "--data",
                         data, *store, input="")
        self.assertNotEqual(p.returncode, 0, "an empty password must be refused")
        # No hub: a missing directory (SQLite), or an empty database (PostgreSQL).
        p = self.run_cli("user", "add", "x3", "--role", "reader", "--password-stdin", "--data",
                         os.path.join(self.tmp.name, "no-such-hub"), *new_store_args(self),
                         input="password-x3\n")
        self.assertNotEqual(p.returncode, 0, "user add without a hub must fail")
        self.assertIn("liaison:", p.stderr)

    def test_serve_without_init_fails(self):
        # No hub: a missing directory (SQLite), or an empty database (PostgreSQL). Must exit
        # (a hang fails with the run's timeout), not serve.
        p = self.run_cli("serve", "--data", os.path.join(self.tmp.name, "missing"), "--listen",
                         "127.0.0.1:0", *new_store_args(self))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("liaison:", p.stderr)

    def test_validate_valid_files_exit_0(self):
        good = self.write("good.json", bundle([indicator(1), malware()]))
        single = self.write("single.json", indicator(2))
        p = self.run_cli("validate", good, single)
        self.assertEqual(p.returncode, 0, (p.stdout, p.stderr))

    def test_validate_invalid_files_exit_2_one_line_per_problem(self):
        bad1 = indicator(1)
        del bad1["pattern"]
        bad2 = indicator(2, created="2024-06-02T00:00:00.000Z", modified="2024-06-01T00:00:00Z")
        path = self.write("bad.json", bundle([bad1, indicator(3), bad2]))
        p = self.run_cli("validate", path)
        self.assertEqual(p.returncode, 2, (p.stdout, p.stderr))
        lines = [ln for ln in (p.stdout + p.stderr).splitlines() if ln.strip()]
        self.assertGreaterEqual(len(lines), 2, lines)
        text = "\n".join(lines)
        self.assertIn(bad1["id"], text)
        self.assertIn(bad2["id"], text)
        self.assertIn("pattern", text)

    def test_validate_mixed_and_unreadable(self):
        good = self.write("good.json", bundle([indicator(1)]))
        broken = self.write("broken.json", b'{"type":"bundle","objects":[')
        p = self.run_cli("validate", good, broken)
        self.assertEqual(p.returncode, 2, (p.stdout, p.stderr))
        self.assertIn("broken.json", p.stdout + p.stderr)
        p = self.run_cli("validate", os.path.join(self.tmp.name, "does-not-exist.json"))
        self.assertNotEqual(p.returncode, 0)
        p = self.run_cli("validate", self.write("nonutf8.json", b'{"type":"\xff"}'))
        self.assertEqual(p.returncode, 2, (p.stdout, p.stderr))


class CliWithHubTest(HubTestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="liaison-cli-")

    def tearDown(self):
        super().tearDown()
        self.tmp.cleanup()

    def write(self, name, obj):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            json.dump(obj, f)
        return path

    def publish_cli(self, path, user, password, collection=None, url=None):
        return self.hub.cli("publish", "--url", url or (self.hub.url + API_ROOT), "--collection",
                            collection or self.col, "--user", user, "--password-stdin", path,
                            input=password + "\n", check=False)

    def test_publish_bundle_to_hub(self):
        objs = [indicator(i) for i in range(5)] + [malware()]
        path = self.write("b.json", bundle(objs))
        p = self.publish_cli(path, "pub", self.hub.passwords["pub"])
        self.assertEqual(p.returncode, 0, (p.stdout, p.stderr))
        r = self.get(self.objects_path(query="?match[id]=" + ",".join(o["id"] for o in objs)),
                     user="reader")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(sorted(o["id"] for o in r.json()["objects"]),
                         sorted(o["id"] for o in objs))

    def test_publish_failures_exit_non_zero(self):
        path = self.write("b.json", bundle([indicator(9)]))
        p = self.publish_cli(path, "pub", "wrong-password")
        self.assertNotEqual(p.returncode, 0, "wrong password must fail")
        self.assertIn("liaison:", p.stderr)
        p = self.publish_cli(path, "reader", self.hub.passwords["reader"])
        self.assertNotEqual(p.returncode, 0, "reader may not publish")
        p = self.publish_cli(path, "pub", self.hub.passwords["pub"],
                             collection="00000000-0000-4000-8000-000000000000")
        self.assertNotEqual(p.returncode, 0, "unknown collection")
        p = self.publish_cli(path, "pub", self.hub.passwords["pub"],
                             url="http://127.0.0.1:1/api/")
        self.assertNotEqual(p.returncode, 0, "unreachable server")

    def test_publish_reports_invalid_objects(self):
        bad = indicator(10)
        del bad["pattern"]
        path = self.write("bad.json", bundle([indicator(11), bad]))
        p = self.publish_cli(path, "pub", self.hub.passwords["pub"])
        self.assertNotEqual(p.returncode, 0, (p.stdout, p.stderr))
        self.assertIn(bad["id"], p.stdout + p.stderr)

    def test_users_added_while_serving_can_log_in_with_their_role(self):
        for name, role in (("late-admin", "admin"), ("late-pub", "publisher"),
                           ("late-reader", "reader")):
            self.hub.add_user(name, role)
            r = self.get(API_ROOT + "collections/%s/" % self.col, user=name)
            self.assertEqual(r.status, 200, (name, r.describe()))
            self.assertIs(r.json().get("can_write"), role != "reader", (name, r.json()))
            r = self.post(self.objects_path(), envelope([indicator()]), user=name)
            self.assertEqual(r.status, 202 if role != "reader" else 403, (name, r.describe()))


if __name__ == "__main__":
    unittest.main()
