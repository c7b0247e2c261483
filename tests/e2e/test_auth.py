"""Authentication (Basic, Bearer API keys), 401/403/404 and not leaking collections.

TAXII 2.1 section 1.6.6 (authentication), RFC 9110 section 11.6.1 (WWW-Authenticate), issue 2:
401 with WWW-Authenticate when credentials are missing or wrong, 403 without the collection grant,
404 for resources the principal may not know about.
"""

import base64
import re
import unittest

from hub import API_ROOT, HubTestCase, envelope, indicator

UNKNOWN_COLLECTION = "6f0e3c1a-1b2c-4d3e-8f40-5a6b7c8d9e0f"


def basic_raw(text):
    return "Basic " + base64.b64encode(text.encode("utf-8")).decode("ascii")


class AuthTest(HubTestCase):
    @classmethod
    def prepare_hub(cls, hub):
        # A collection with no grants: only admins may know it exists.
        cls.secret = hub.create_collection("Secret E2E collection", no_grants=True)
        cls.pub_key = hub.create_apikey("pub")
        cls.reader_key = hub.create_apikey("reader")
        cls.revoked_key = hub.create_apikey("pub")

    def assert401(self, r):
        body = self.assertTaxiiError(r, 401)
        challenge = r.header("WWW-Authenticate")
        self.assertIsNotNone(challenge, r.describe())
        self.assertRegex(challenge, r"(?i)\b(basic|bearer)\b")
        return body

    # 401 ----------------------------------------------------------------------------------

    def test_missing_credentials(self):
        for path in ("/taxii2/", API_ROOT, API_ROOT + "collections/", self.objects_path()):
            self.assert401(self.hub.request("GET", path))
        self.assert401(self.hub.request("POST", self.objects_path(), body=envelope([indicator()])))

    def test_wrong_password(self):
        self.assert401(self.get(API_ROOT, user=None, headers={
            "Authorization": self.hub.basic("pub", "not-the-password")}))

    def test_unknown_user_looks_like_wrong_password(self):
        a = self.assert401(self.get(API_ROOT, user=None, headers={
            "Authorization": self.hub.basic("nobody-here", "whatever")}))
        b = self.assert401(self.get(API_ROOT, user=None, headers={
            "Authorization": self.hub.basic("pub", "whatever")}))
        self.assertEqual(a, b, "the error must not tell unknown users from wrong passwords")

    def test_malformed_authorization_headers(self):
        for value in ("Basic", "Basic !!!not-base64!!!", basic_raw("no-colon"), basic_raw(":"),
                      "Bearer", "Bearer ", "Bearer lsk_nope", "Bearer lsk_" + "A" * 5000,
                      "Digest username=\"pub\"", "pub:password", basic_raw("pub:\x00\xff")):
            r = self.hub.request("GET", API_ROOT, headers={"Authorization": value})
            self.assertIn(r.status, (400, 401), (value[:40], r.describe()))
            self.assertTaxiiError(r, r.status)
        self.assertServing()

    def test_empty_password_never_matches(self):
        self.assert401(self.get(API_ROOT, user=None, headers={
            "Authorization": self.hub.basic("pub", "")}))

    # API keys -----------------------------------------------------------------------------

    def test_bearer_api_key_reads_and_writes(self):
        r = self.hub.request("GET", API_ROOT + "collections/",
                             headers={"Authorization": "Bearer " + self.pub_key})
        self.assertEqual(r.status, 200, r.describe())
        obj = indicator(1)
        r = self.hub.request("POST", self.objects_path(), body=envelope([obj]),
                             headers={"Authorization": "Bearer " + self.pub_key})
        self.assertEqual(r.status, 202, r.describe())
        status = r.json()
        self.assertEqual(status.get("success_count"), 1, status)
        # The key's owner may read the status; readers may not.
        path = "%sstatus/%s/" % (API_ROOT, status["id"])
        r = self.hub.request("GET", path, headers={"Authorization": "Bearer " + self.pub_key})
        self.assertEqual(r.status, 200, r.describe())
        r = self.hub.request("GET", path, headers={"Authorization": "Bearer " + self.reader_key})
        self.assertIn(r.status, (403, 404), r.describe())

    def test_reader_api_key_cannot_write(self):
        r = self.hub.request("POST", self.objects_path(), body=envelope([indicator()]),
                             headers={"Authorization": "Bearer " + self.reader_key})
        self.assertTaxiiError(r, 403)

    def test_tampered_api_key(self):
        key = self.pub_key
        tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
        self.assert401(self.hub.request("GET", API_ROOT,
                                        headers={"Authorization": "Bearer " + tampered}))

    def test_api_key_is_not_a_password(self):
        self.assert401(self.hub.request("GET", API_ROOT,
                                        headers={"Authorization": self.hub.basic("pub",
                                                                                 self.pub_key)}))

    def test_revoked_api_key(self):
        auth = {"Authorization": "Bearer " + self.revoked_key}
        r = self.hub.request("GET", API_ROOT, headers=auth)
        self.assertEqual(r.status, 200, r.describe())
        key_id = re.match(r"(lsk_[^.]+)", self.revoked_key).group(1)
        listing = self.hub.cli("apikey", "list", "--user", "pub", "--data", self.hub.data_dir,
                               check=False)
        # The revoke command takes the key id (the public part before the '.').
        candidates = [key_id, key_id[len("lsk_"):]]
        for m in re.finditer(r"\S+", listing.stdout):
            if m.group(0) in self.revoked_key and m.group(0) not in candidates:
                candidates.append(m.group(0))
        for cand in candidates:
            proc = self.hub.cli("apikey", "revoke", cand, "--data", self.hub.data_dir, check=False)
            if proc.returncode == 0:
                break
        else:
            self.fail("could not revoke key %s: %s" % (key_id, proc.stderr))
        # Restart so no verification cache can hide the revocation, then expect 401.
        self.assertEqual(self.hub.stop(), 0, self.hub.log_tail())
        self.hub.start()
        self.assert401(self.hub.request("GET", API_ROOT, headers=auth))
        r = self.hub.request("GET", API_ROOT, headers={"Authorization": "Bearer " + self.pub_key})
        self.assertEqual(r.status, 200, r.describe())

    # 403 ----------------------------------------------------------------------------------

    def test_reader_post_is_403(self):
        r = self.post(self.objects_path(), envelope([indicator()]), user="reader")
        self.assertTaxiiError(r, 403)

    def test_publisher_may_post_admin_may_post(self):
        self.publish([indicator()], user="pub")
        self.publish([indicator()], user="admin")

    # 404 without leaks --------------------------------------------------------------------

    def normalised_error(self, r):
        body = r.json()
        text = repr(sorted(body.items()))
        return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", text)

    def test_ungranted_collection_is_404_like_an_unknown_one(self):
        for suffix in ("", "objects/", "manifest/"):
            secret = self.get("%scollections/%s/%s" % (API_ROOT, self.secret, suffix),
                              user="reader")
            unknown = self.get("%scollections/%s/%s" % (API_ROOT, UNKNOWN_COLLECTION, suffix),
                               user="reader")
            self.assertTaxiiError(secret, 404)
            self.assertTaxiiError(unknown, 404)
            self.assertEqual(self.normalised_error(secret), self.normalised_error(unknown))
        r = self.post("%scollections/%s/objects/" % (API_ROOT, self.secret),
                      envelope([indicator()]), user="pub")
        self.assertTaxiiError(r, 404)

    def test_collections_list_hides_ungranted(self):
        r = self.get(API_ROOT + "collections/", user="reader")
        self.assertEqual(r.status, 200, r.describe())
        ids = [c["id"] for c in r.json().get("collections", [])]
        self.assertIn(self.col, ids)
        self.assertNotIn(self.secret, ids)
        self.assertNotIn(self.secret.encode(), r.body)
        r = self.get(API_ROOT + "collections/", user="admin")
        ids = [c["id"] for c in r.json().get("collections", [])]
        self.assertIn(self.secret, ids)

    def test_admin_sees_and_writes_ungranted_collection(self):
        r = self.get("%scollections/%s/" % (API_ROOT, self.secret), user="admin")
        self.assertEqual(r.status, 200, r.describe())
        obj = indicator(5)
        self.publish([obj], col=self.secret, user="admin")
        r = self.get(self.objects_path(self.secret, "?match[id]=" + obj["id"]), user="reader")
        self.assertTaxiiError(r, 404)
        r = self.get(self.objects_path(self.secret, "?match[id]=" + obj["id"]), user="admin")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual([o["id"] for o in r.json()["objects"]], [obj["id"]])


if __name__ == "__main__":
    unittest.main()
