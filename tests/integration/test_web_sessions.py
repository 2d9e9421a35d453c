"""Browser sessions, pseudonymous registration, key reset, CSRF, static pages, modes and invites
(docs/web.md), against the real horded."""

from __future__ import annotations

import requests

from conftest import assert_error, unique


def browser(horde) -> requests.Session:
    s = requests.Session()
    s.headers["Connection"] = "close"
    return s


def web_session(s: requests.Session, horde) -> dict:
    r = s.get(horde.base + "/api/web/session", timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def register(s: requests.Session, horde, name: str | None = None) -> dict:
    token = web_session(s, horde)["csrf_token"]
    r = s.post(horde.base + "/api/web/register", json={"username": name or unique("p")},
               headers={"X-CSRF-Token": token}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def set_cookies(resp: requests.Response) -> list[str]:
    """Every Set-Cookie header of the answer (each cookie has its own)."""
    return resp.raw.headers.getlist("Set-Cookie")


def set_cookie_of(resp: requests.Response, name: str) -> str:
    found = [c for c in set_cookies(resp) if c.startswith(name + "=")]
    assert len(found) == 1, set_cookies(resp)
    return found[0]


def login_with_key(s: requests.Session, horde, key: str) -> requests.Response:
    token = web_session(s, horde)["csrf_token"]
    return s.post(horde.base + "/api/web/register", json={"api_key": key},
                  headers={"X-CSRF-Token": token}, timeout=30)


def test_register_sets_a_strict_session_cookie_and_logs_in(horde):
    s = browser(horde)
    token = web_session(s, horde)["csrf_token"]
    r = s.post(horde.base + "/api/web/register", json={"username": "  Alice Pseudo  "},
               headers={"X-CSRF-Token": token}, timeout=30)
    assert r.status_code == 200, r.text
    cookie = set_cookie_of(r, "horde_session")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/;" in cookie
    assert "Secure" not in cookie  # plain http here
    body = r.json()
    assert body["user"]["pseudonymous"] is True
    assert body["user"]["username"].startswith("Alice Pseudo#")
    me = web_session(s, horde)
    assert me["logged_in"] is True
    assert me["user"]["id"] == body["user"]["id"]
    assert me["user"]["pseudonymous"] is True
    assert "new_api_key" not in me
    # The key shown once works as an apikey, and the cookie works on v2 in its place.
    assert horde.client(body["api_key"]).get("/find_user").json()["id"] == body["user"]["id"]
    r = s.get(horde.api + "/find_user", timeout=30)
    assert r.status_code == 200 and r.json()["id"] == body["user"]["id"], r.text
    # The session is stored hashed only.
    token_value = s.cookies.get("horde_session")
    assert token_value and token_value.encode() not in horde.raw_store_bytes()
    session_id = token_value.split(".")[0]
    assert len(session_id) == 43 and session_id.encode() not in horde.raw_store_bytes()


def test_register_needs_the_csrf_token(horde):
    s = browser(horde)
    web_session(s, horde)
    r = s.post(horde.base + "/api/web/register", json={"username": "nocsrf"}, timeout=30)
    assert_error(r, 403, "CsrfFailed")
    r = s.post(horde.base + "/api/web/register", json={"username": "nocsrf"},
               headers={"X-CSRF-Token": "forged"}, timeout=30)
    assert_error(r, 403, "CsrfFailed")
    assert web_session(s, horde)["logged_in"] is False


def test_register_validates_the_name(horde):
    s = browser(horde)
    token = web_session(s, horde)["csrf_token"]
    for name, rc in (("ab", "BadRequest"), ("x" * 31, "TooLongUserName"),
                     ("a#b#c", "BadRequest"), ("tab\there", "BadRequest")):
        r = s.post(horde.base + "/api/web/register", json={"username": name},
                   headers={"X-CSRF-Token": token}, timeout=30)
        assert_error(r, 400, rc)
    r = s.post(horde.base + "/api/web/register", data="not json",
               headers={"X-CSRF-Token": token}, timeout=30)
    assert_error(r, 400)


def test_pseudonymous_users_have_the_lower_floor(horde):
    s = browser(horde)
    body = register(s, horde)
    user = horde.client(body["api_key"]).get("/find_user").json()
    assert user["pseudonymous"] is True
    rows = horde.sql("SELECT data FROM users WHERE id = ?", (body["user"]["id"],))
    assert '"pseudonymous":true' in rows[0][0].replace(" ", "")


def test_changes_with_the_cookie_need_the_csrf_header(horde):
    s = browser(horde)
    body = register(s, horde)
    csrf = web_session(s, horde)["csrf_token"]
    uid = body["user"]["id"]
    r = s.put(horde.api + f"/users/{uid}", json={"username": "renamed"}, timeout=30)
    assert_error(r, 403, "CsrfFailed")
    r = s.put(horde.api + f"/users/{uid}", json={"username": "renamed"},
              headers={"X-CSRF-Token": csrf}, timeout=30)
    assert r.status_code == 200, r.text
    assert web_session(s, horde)["user"]["username"] == f"renamed#{uid}"
    # Reads need no CSRF header.
    assert s.get(horde.api + "/find_user", timeout=30).status_code == 200


def test_key_reset_refuses_the_old_key_at_once(horde):
    s = browser(horde)
    body = register(s, horde)
    old = body["api_key"]
    csrf = web_session(s, horde)["csrf_token"]
    r = s.post(horde.base + "/api/web/key", timeout=30)
    assert_error(r, 403, "CsrfFailed")
    r = s.post(horde.base + "/api/web/key", headers={"X-CSRF-Token": csrf}, timeout=30)
    assert r.status_code == 200, r.text
    new = r.json()["api_key"]
    assert new != old
    old_answer = horde.client(old).get("/find_user")
    assert old_answer.status_code in (401, 404), old_answer.text  # the reference answers 404
    assert horde.client(new).get("/find_user").json()["id"] == body["user"]["id"]
    # Without a session: refused.
    assert_error(requests.post(horde.base + "/api/web/key", timeout=30), 401, "SessionExpired")


def test_key_reset_ends_the_other_sessions_and_renews_this_one(horde):
    s = browser(horde)
    body = register(s, horde)
    before = s.cookies.get("horde_session")
    other = browser(horde)  # a second browser, logged in with the key
    assert login_with_key(other, horde, body["api_key"]).status_code == 200
    assert web_session(other, horde)["logged_in"] is True
    r = s.post(horde.base + "/api/web/key",
               headers={"X-CSRF-Token": web_session(s, horde)["csrf_token"]}, timeout=30)
    assert r.status_code == 200, r.text
    assert "Max-Age=2592000" in set_cookie_of(r, "horde_session")
    # This browser goes on with a new session and the CSRF token of the answer.
    assert s.cookies.get("horde_session") != before
    me = web_session(s, horde)
    assert me["logged_in"] is True and me["csrf_token"] == r.json()["csrf_token"]
    r2 = s.put(horde.api + f"/users/{body['user']['id']}", json={"username": "still me"},
               headers={"X-CSRF-Token": me["csrf_token"]}, timeout=30)
    assert r2.status_code == 200, r2.text
    # The other browser and the old cookie are logged out.
    assert web_session(other, horde)["logged_in"] is False
    r2 = requests.get(horde.api + "/find_user", cookies={"horde_session": before}, timeout=30)
    assert r2.status_code in (400, 401), r2.text
    # A reset with the apikey header (no cookie) ends the browser sessions too.
    r2 = requests.post(horde.base + "/api/web/key", headers={"apikey": r.json()["api_key"]},
                       timeout=30)
    assert r2.status_code == 200 and "Set-Cookie" not in r2.headers, r2.text
    assert web_session(s, horde)["logged_in"] is False


def test_login_with_the_api_key(horde):
    s = browser(horde)
    body = register(s, horde)
    csrf = web_session(s, horde)["csrf_token"]
    assert s.post(horde.base + "/api/web/logout", headers={"X-CSRF-Token": csrf},
                  timeout=30).status_code == 200
    assert web_session(s, horde)["logged_in"] is False
    # Without the pre-login CSRF token: refused.
    r = s.post(horde.base + "/api/web/register", json={"api_key": body["api_key"]}, timeout=30)
    assert_error(r, 403, "CsrfFailed")
    r = login_with_key(s, horde, body["api_key"])
    assert r.status_code == 200, r.text
    assert "api_key" not in r.json()
    assert r.json()["user"]["id"] == body["user"]["id"]
    assert "HttpOnly" in set_cookie_of(r, "horde_session")
    me = web_session(s, horde)
    assert me["logged_in"] is True and me["user"]["id"] == body["user"]["id"]
    assert me["csrf_token"] == r.json()["csrf_token"]
    # A wrong key, and the anonymous key, are refused; the browser stays logged out.
    fresh = browser(horde)
    assert login_with_key(fresh, horde, "x" * 22).status_code == 401
    assert_error(login_with_key(fresh, horde, "0000000000"), 403)
    assert_error(login_with_key(fresh, horde, "k" * 200), 400)
    assert web_session(fresh, horde)["logged_in"] is False


def test_login_ends_the_session_the_browser_had(horde):
    s = browser(horde)
    first = register(s, horde)
    old = s.cookies.get("horde_session")
    second = register(s, horde)
    assert web_session(s, horde)["user"]["id"] == second["user"]["id"]
    r = requests.get(horde.base + "/api/web/session", cookies={"horde_session": old}, timeout=30)
    assert r.json()["logged_in"] is False
    r = login_with_key(s, horde, first["api_key"])
    assert r.status_code == 200 and web_session(s, horde)["user"]["id"] == first["user"]["id"]


def test_session_cookie_binding_is_checked(horde):
    s = browser(horde)
    register(s, horde)
    value = s.cookies.get("horde_session")
    session_id, binding = value.split(".")
    for forged in (session_id, session_id + ".", session_id + "." + "A" * len(binding),
                   "x" * 43 + "." + binding):
        r = requests.get(horde.api + "/find_user", cookies={"horde_session": forged},
                         headers={"Connection": "close"}, timeout=30)
        assert r.status_code in (400, 401), (forged, r.text)
        r = requests.get(horde.api + "/find_user", headers={"apikey": "session:" + forged},
                         timeout=30)
        assert r.status_code in (400, 401, 404), (forged, r.text)


def test_logout_ends_the_session(horde):
    s = browser(horde)
    register(s, horde)
    stolen = s.cookies.get("horde_session")
    csrf = web_session(s, horde)["csrf_token"]
    assert_error(s.post(horde.base + "/api/web/logout", timeout=30), 403, "CsrfFailed")
    r = s.post(horde.base + "/api/web/logout", headers={"X-CSRF-Token": csrf}, timeout=30)
    assert r.status_code == 200, r.text
    assert "Max-Age=0" in set_cookie_of(r, "horde_session")
    assert web_session(s, horde)["logged_in"] is False
    # The old token is dead on the server, not only dropped by the browser.
    r = requests.get(horde.base + "/api/web/session", cookies={"horde_session": stolen}, timeout=30)
    assert r.json()["logged_in"] is False
    r = requests.get(horde.api + "/find_user", cookies={"horde_session": stolen}, timeout=30)
    assert r.status_code in (400, 401), r.text


def test_session_survives_a_restart(horde):
    s = browser(horde)
    body = register(s, horde)
    horde.restart()
    me = web_session(s, horde)
    assert me["logged_in"] is True and me["user"]["id"] == body["user"]["id"]


def test_expired_session_is_refused(horde):
    s = browser(horde)
    register(s, horde)
    horde.advance(31 * 24 * 3600)
    assert web_session(s, horde)["logged_in"] is False
    r = s.get(horde.api + "/find_user", timeout=30)
    assert r.status_code in (400, 401), r.text


def test_session_slides_while_used(horde):
    s = browser(horde)
    register(s, horde)
    for _ in range(3):
        horde.advance(20 * 24 * 3600)
        assert web_session(s, horde)["logged_in"] is True


def test_bad_session_cookie_is_anonymous(horde):
    r = requests.get(horde.base + "/api/web/session", cookies={"horde_session": "x" * 43},
                     timeout=30)
    assert r.status_code == 200 and r.json()["logged_in"] is False
    # One answer clears the stale cookie and sets the pre-login CSRF cookie: its token works.
    assert "Max-Age=0" in set_cookie_of(r, "horde_session")
    assert "HttpOnly" in set_cookie_of(r, "horde_csrf")
    s = browser(horde)
    s.cookies.set("horde_session", "x" * 43 + ".stale", domain="127.0.0.1", path="/")
    token = web_session(s, horde)["csrf_token"]
    assert s.cookies.get("horde_session") is None and s.cookies.get("horde_csrf")
    r = s.post(horde.base + "/api/web/register", json={"username": unique("p")},
               headers={"X-CSRF-Token": token}, timeout=30)
    assert r.status_code == 200, r.text
    r = requests.post(horde.api + "/generate/text/async", cookies={"horde_session": "nope"},
                      json={"prompt": "hello"}, headers={"apikey": "0000000000"}, timeout=30)
    assert r.status_code == 202, r.text


def test_config_lists_no_providers_by_default(horde):
    r = requests.get(horde.base + "/api/web/config", timeout=30)
    assert r.status_code == 200
    body = r.json()
    assert body["providers"] == []
    assert body["pseudonymous_registration"] is True
    assert body["maintenance_mode"] is False


# ---- static pages


def test_pages_are_served_with_security_headers(horde):
    for path in ("/", "/login", "/account", "/transfer", "/generate", "/admin", "/invite/abc123",
                 "/account/"):
        r = requests.get(horde.base + path, timeout=30)
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
        assert r.headers["Content-Type"].startswith("text/html"), path
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "img-src 'self' data: blob:" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "Cache-Control" in r.headers


def test_static_assets_have_their_types(horde):
    import pathlib
    web = pathlib.Path(__file__).resolve().parents[2] / "web" / "static"
    seen = 0
    for f in sorted(web.rglob("*")):
        if f.suffix not in (".js", ".css", ".svg") or not f.is_file():
            continue
        rel = f.relative_to(web).as_posix()
        r = requests.get(horde.base + "/static/" + rel, timeout=30)
        assert r.status_code == 200, rel
        want = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}[f.suffix]
        assert r.headers["Content-Type"].startswith(want), (rel, r.headers["Content-Type"])
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.content == f.read_bytes()
        seen += 1
    r = requests.head(horde.base + "/login", timeout=30)
    assert r.status_code == 200 and r.content == b""


def test_static_paths_cannot_escape(horde):
    import http.client
    for path in ("/static/../README.md", "/static/%2e%2e/README.md", "/static/%2E%2E%2FREADME.md",
                 "/static/..%2fREADME.md", "/static/%2e%2e%5cREADME.md", "/static/a%00.js",
                 "/static/.hidden", "/static/", "/../README.md", "/static//etc/passwd",
                 "/static/%252e%252e/README.md", "/nope", "/static/x\\..\\y.js",
                 "/static/%zz.js"):
        conn = http.client.HTTPConnection("127.0.0.1", horde.port, timeout=30)
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        assert resp.status == 404, (path, resp.status, body[:200])
        assert b"# Horde" not in body
    assert requests.post(horde.base + "/login", timeout=30).status_code == 405
    # API paths keep their JSON 404.
    assert_error(requests.get(horde.api + "/nothing", timeout=30), 404)


def test_unknown_page_gives_a_browser_a_page(horde):
    browser_accept = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    r = requests.get(horde.base + "/no-such-page", headers=browser_accept, timeout=30)
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert "Page not found" in r.text
    # Not for API clients, API paths, static files or escapes.
    assert_error(requests.get(horde.base + "/no-such-page", timeout=30), 404)
    for path in ("/api/v2/nothing", "/static/nothing.js", "/auth/nothing"):
        r = requests.get(horde.base + path, headers=browser_accept, timeout=30)
        assert r.status_code == 404 and "Page not found" not in r.text, path
        assert "# Horde" not in r.text


# ---- modes and invites


def test_maintenance_refuses_new_requests_with_the_message(horde):
    admin = horde.user(moderator=True)
    mod = horde.user(moderator=True)
    # Only admins set maintenance: test users are moderators, not admins.
    assert_error(mod.client.put("/status/modes", json={"maintenance": True}), 403, "NotAdmin")
    plain = horde.user()
    assert_error(plain.client.put("/status/modes", json={"invite_only": True}), 403,
                 "NotModerator")
    del admin


def test_maintenance_with_admin(horde_factory):
    h = horde_factory(extra_args=())
    probe = h.user(name="boss")
    h.stop()
    h.extra_args = ("--admins", f"{probe.alias}",)
    h.start()
    boss = h.client(probe.key)
    r = boss.put("/status/modes", json={"maintenance": True,
                                        "maintenance_msg": "Back at 5pm, upgrading."})
    assert r.status_code == 200, r.text
    modes = requests.get(h.api + "/status/modes", timeout=30).json()
    assert modes["maintenance_mode"] is True
    assert modes["maintenance_msg"] == "Back at 5pm, upgrading."
    body = assert_error(h.anon().post("/generate/text/async", json={"prompt": "hi"}), 400,
                        "MaintenanceMode")
    assert body["message"] == "Back at 5pm, upgrading."
    cfg = requests.get(h.base + "/api/web/config", timeout=30).json()
    assert cfg["maintenance_mode"] is True and cfg["maintenance_msg"].startswith("Back")
    r = boss.put("/status/modes", json={"maintenance": False})
    assert r.status_code == 200
    assert h.anon().post("/generate/text/async", json={"prompt": "hi"}).status_code == 202


def test_invite_only_by_name(horde):
    mod = horde.user(moderator=True)
    owner = horde.user()
    r = mod.client.put("/status/modes", json={"invite_only": True})
    assert r.status_code == 200, r.text
    worker = owner.text_worker()
    assert_error(worker.pop_raw(), 403, "WorkerInviteOnly")
    assert_error(owner.client.post(horde.base + "/api/web/invites",
                                   json={"username": owner.alias}), 403, "NotModerator")
    r = mod.client.post(horde.base + "/api/web/invites", json={"username": owner.alias})
    assert r.status_code == 200, r.text
    assert r.json()["worker_invited"] >= 1
    worker.pop_empty()
    assert_error(mod.client.post(horde.base + "/api/web/invites", json={"username": "nobody#999"}),
                 404, "UserNotFound")


def test_invite_only_by_link(horde):
    mod = horde.user(moderator=True)
    assert mod.client.put("/status/modes", json={"invite_only": True}).status_code == 200
    r = mod.client.post(horde.base + "/api/web/invites", json={})
    assert r.status_code == 200, r.text
    link = r.json()
    assert link["url"].endswith("/invite/" + link["token"])
    assert link["token"].encode() not in horde.raw_store_bytes()
    # The invitee registers in the browser and accepts the link.
    s = browser(horde)
    body = register(s, horde)
    key = body["api_key"]
    owner_client = horde.client(key)
    pop = {"name": unique("tw"), "models": ["model-a"], "max_length": 80, "max_context_length": 1024}
    assert_error(owner_client.post("/generate/text/pop", json=pop), 403, "WorkerInviteOnly")
    page = s.get(link["url"], timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    csrf = web_session(s, horde)["csrf_token"]
    accept = horde.base + f"/api/web/invites/{link['token']}/accept"
    assert_error(s.post(accept, timeout=30), 403, "CsrfFailed")
    r = s.post(accept, headers={"X-CSRF-Token": csrf}, timeout=30)
    assert r.status_code == 200, r.text
    r = owner_client.post("/generate/text/pop", json=pop)
    assert r.status_code == 200, r.text
    # Single use: someone else cannot use it again; bad tokens are refused.
    other = browser(horde)
    register(other, horde)
    csrf2 = web_session(other, horde)["csrf_token"]
    assert_error(other.post(accept, headers={"X-CSRF-Token": csrf2}, timeout=30), 400,
                 "InvalidInvite")
    assert_error(other.post(horde.base + "/api/web/invites/bogus/accept",
                            headers={"X-CSRF-Token": csrf2}, timeout=30), 400, "InvalidInvite")


def test_raid_mode_closes_pseudonymous_registration(horde):
    mod = horde.user(moderator=True)
    assert mod.client.put("/status/modes", json={"raid": True}).status_code == 200
    s = browser(horde)
    token = web_session(s, horde)["csrf_token"]
    r = s.post(horde.base + "/api/web/register", json={"username": "raider"},
               headers={"X-CSRF-Token": token}, timeout=30)
    assert_error(r, 403, "RegistrationClosed")
    assert requests.get(horde.base + "/api/web/config", timeout=30).json()[
        "pseudonymous_registration"] is False
