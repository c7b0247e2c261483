"""Discovery, API root, collections and collection resources, content negotiation, error bodies.

TAXII 2.1 sections 4.1 (discovery), 4.2 (API root), 5.1/5.2 (collections), 1.6.8 (media types),
3.6.1 (error message).
"""

import unittest

from hub import API_ROOT, TAXII, HubTestCase, indicator, envelope


class DiscoveryTest(HubTestCase):
    def test_healthz_answers_without_credentials(self):
        r = self.hub.request("GET", "/healthz", accept=None)
        self.assertEqual(r.status, 200, r.describe())

    def test_discovery(self):
        r = self.get("/taxii2/", user="reader")
        self.assertEqual(r.status, 200, r.describe())
        self.assertTaxiiContentType(r)
        body = r.json()
        self.assertIsInstance(body.get("title"), str, body)
        self.assertIsInstance(body.get("api_roots"), list, body)
        self.assertTrue(any(root.rstrip("/").endswith("/api") or root == "/api/"
                            for root in body["api_roots"]), body)
        if "default" in body:
            self.assertIn(body["default"], body["api_roots"])

    def test_discovery_requires_authentication(self):
        r = self.hub.request("GET", "/taxii2/")
        self.assertTaxiiError(r, 401)
        self.assertIsNotNone(r.header("WWW-Authenticate"), r.describe())

    def test_api_root(self):
        r = self.get(API_ROOT, user="reader")
        self.assertEqual(r.status, 200, r.describe())
        self.assertTaxiiContentType(r)
        body = r.json()
        self.assertIsInstance(body.get("title"), str, body)
        self.assertIn(TAXII, body.get("versions", []), body)
        self.assertIsInstance(body.get("max_content_length"), int, body)
        self.assertGreater(body["max_content_length"], 0)

    def test_unknown_api_root_is_404(self):
        body = self.assertTaxiiError(self.get("/nosuchroot/", user="admin"), 404)
        self.assertNotIn("Traceback", str(body))

    def test_unknown_path_is_404_with_taxii_error(self):
        self.assertTaxiiError(self.get(API_ROOT + "nosuchthing/", user="admin"), 404)
        self.assertTaxiiError(self.get(API_ROOT + "collections/%s/nosuch/" % self.col), 404)

    def test_collections_lists_default_collection(self):
        r = self.get(API_ROOT + "collections/", user="reader")
        self.assertEqual(r.status, 200, r.describe())
        self.assertTaxiiContentType(r)
        cols = r.json().get("collections", [])
        ids = [c.get("id") for c in cols]
        self.assertIn(self.col, ids, r.describe())
        col = cols[ids.index(self.col)]
        self.assertIsInstance(col.get("title"), str)
        self.assertEqual(col.get("alias"), "default", col)
        # Readers read the default collection but may not write it (issue 2: init's collection).
        self.assertIs(col.get("can_read"), True, col)
        self.assertIs(col.get("can_write"), False, col)
        self.assertIn("application/stix+json;version=2.1",
                      [m.replace(" ", "") for m in col.get("media_types", [])], col)

    def test_collection_permissions_by_role(self):
        for user, can_write in (("pub", True), ("admin", True), ("reader", False)):
            r = self.get(API_ROOT + "collections/%s/" % self.col, user=user)
            self.assertEqual(r.status, 200, r.describe())
            self.assertTaxiiContentType(r)
            col = r.json()
            self.assertEqual(col.get("id"), self.col, col)
            self.assertIs(col.get("can_read"), True, (user, col))
            self.assertIs(col.get("can_write"), can_write, (user, col))

    def test_collection_by_alias(self):
        r = self.get(API_ROOT + "collections/default/", user="reader")
        # Aliases are optional in lookups; when supported they must resolve to the same collection.
        if r.status == 200:
            self.assertEqual(r.json().get("id"), self.col)
        else:
            self.assertTaxiiError(r, 404)

    def test_unknown_collection_is_404(self):
        self.assertTaxiiError(
            self.get(API_ROOT + "collections/00000000-0000-4000-8000-000000000000/"), 404)
        self.assertTaxiiError(
            self.get(API_ROOT + "collections/00000000-0000-4000-8000-000000000000/objects/"), 404)
        self.assertTaxiiError(
            self.get(API_ROOT + "collections/00000000-0000-4000-8000-000000000000/manifest/"), 404)

    def test_unknown_status_is_404(self):
        self.assertTaxiiError(self.get(API_ROOT + "status/00000000-0000-4000-8000-000000000000/"),
                              404)
        self.assertTaxiiError(self.get(API_ROOT + "status/not-a-uuid/"), 404)

    def test_method_not_allowed_gets_taxii_error(self):
        r = self.hub.request("PUT", API_ROOT, body=b"{}", auth=self.auth("admin"))
        self.assertIn(r.status, (404, 405), r.describe())
        self.assertTaxiiError(r, r.status)
        r = self.hub.request("DELETE", API_ROOT + "collections/%s/" % self.col,
                             auth=self.auth("admin"))
        self.assertIn(r.status, (404, 405), r.describe())
        self.assertTaxiiError(r, r.status)

    def test_head_is_get_without_body(self):
        get = self.get(API_ROOT, user="reader")
        head = self.hub.request("HEAD", API_ROOT, auth=self.auth("reader"))
        self.assertEqual(head.status, 200, head.describe())
        self.assertEqual(head.body, b"")
        self.assertTaxiiContentType(head)
        self.assertEqual(head.header("Content-Length"), get.header("Content-Length"))

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        conn = self.hub.connection()
        try:
            for _ in range(20):
                r = self.hub.request("GET", API_ROOT, auth=self.auth("reader"), conn=conn)
                self.assertEqual(r.status, 200, r.describe())
        finally:
            conn.close()


class NegotiationTest(HubTestCase):
    """TAXII 2.1 section 1.6.8 and RFC 9110 section 12.5.1 (Accept, q-values)."""

    def accept(self, value, path=API_ROOT):
        return self.hub.request("GET", path, auth=self.auth("reader"), accept=value)

    def test_exact_media_type(self):
        r = self.accept(TAXII)
        self.assertEqual(r.status, 200, r.describe())
        self.assertTaxiiContentType(r)

    def test_media_type_with_spaces_and_case(self):
        r = self.accept("Application/TAXII+JSON; version=2.1")
        self.assertEqual(r.status, 200, r.describe())
        self.assertTaxiiContentType(r)

    def test_accept_without_version_gets_latest(self):
        # TAXII 2.1 section 1.6.8.1: without the version parameter the latest version is implied.
        r = self.accept("application/taxii+json")
        self.assertEqual(r.status, 200, r.describe())
        self.assertTaxiiContentType(r)

    def test_missing_accept_means_anything(self):
        r = self.accept(None)
        self.assertEqual(r.status, 200, r.describe())
        self.assertTaxiiContentType(r)

    def test_wildcards(self):
        for value in ("*/*", "application/*"):
            r = self.accept(value)
            self.assertEqual(r.status, 200, (value, r.describe()))
            self.assertTaxiiContentType(r)

    def test_several_types_with_q_values(self):
        for value in (
            "text/html;q=0.9, application/taxii+json;version=2.1;q=0.5",
            "application/xml, application/taxii+json;version=2.1",
            "application/taxii+json;version=2.0;q=1, application/taxii+json;version=2.1;q=0.1",
            "text/html, */*;q=0.1",
        ):
            r = self.accept(value)
            self.assertEqual(r.status, 200, (value, r.describe()))
            self.assertTaxiiContentType(r)

    def test_unacceptable_types_are_406(self):
        for value in (
            "text/html",
            "application/xml",
            "application/taxii+json;version=2.0",
            "application/taxii+json;version=3.0",
            "application/stix+json;version=2.0",
        ):
            self.assertTaxiiError(self.accept(value), 406)

    def test_q_zero_excludes(self):
        for value in (
            "application/taxii+json;version=2.1;q=0",
            "application/taxii+json;version=2.1;q=0.0, text/html",
            "*/*;q=0",
        ):
            self.assertTaxiiError(self.accept(value), 406)

    def test_406_on_objects_endpoint(self):
        self.assertTaxiiError(self.accept("text/plain", API_ROOT + "collections/%s/objects/"
                                          % self.col), 406)

    def test_post_with_wrong_content_type_is_415(self):
        path = API_ROOT + "collections/%s/objects/" % self.col
        for ct in ("text/plain", "application/xml", "application/taxii+json;version=2.0",
                   "application/x-www-form-urlencoded"):
            r = self.hub.request("POST", path, body=envelope([indicator()]),
                                 auth=self.auth("pub"), content_type=ct)
            self.assertTaxiiError(r, 415)

    def test_post_without_content_type_is_415(self):
        path = API_ROOT + "collections/%s/objects/" % self.col
        r = self.hub.request("POST", path, body=envelope([indicator()]), auth=self.auth("pub"),
                             content_type="")
        self.assertTaxiiError(r, 415)

    def test_post_content_type_without_version_is_accepted(self):
        path = API_ROOT + "collections/%s/objects/" % self.col
        r = self.hub.request("POST", path, body=envelope([indicator()]), auth=self.auth("pub"),
                             content_type="application/taxii+json")
        self.assertEqual(r.status, 202, r.describe())


if __name__ == "__main__":
    unittest.main()
