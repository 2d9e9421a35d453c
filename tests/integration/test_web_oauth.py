"""OAuth 2.0 / OpenID Connect login against a real local provider (oidc-provider, started on
loopback by these tests; tests/web/oidc_server.mjs). The provider's login and consent pages are
driven with `requests` by parsing their forms."""

from __future__ import annotations

import html
import pathlib
import re
import shutil
import socket
import subprocess
import urllib.parse

import pytest
import requests

from conftest import Horde, assert_error

WEB_TESTS = pathlib.Path(__file__).resolve().parents[1] / "web"
CLIENT_ID = "horde-test"
CLIENT_SECRET = "oidc-test-secret-do-not-log"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def oidc(tmp_path):
    """Starts oidc_server.mjs for a horded that will listen on `horde_port`."""
    if shutil.which("node") is None or not (WEB_TESTS / "node_modules" / "oidc-provider").exists():
        pytest.skip("node or tests/web/node_modules missing (cd tests/web && npm ci)")
    procs = []

    def start(horde_port: int, provider_name: str = "oidc") -> str:
        proc = subprocess.Popen(
            ["node", str(WEB_TESTS / "oidc_server.mjs"), "--port", "0", "--client-id", CLIENT_ID,
             "--client-secret", CLIENT_SECRET, "--redirect-uri",
             f"http://127.0.0.1:{horde_port}/auth/callback/{provider_name}"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=str(WEB_TESTS))
        procs.append(proc)
        for _ in range(50):
            line = proc.stdout.readline()
            if line.startswith("ISSUER "):
                return line.split()[1]
            if not line and proc.poll() is not None:
                break
        raise RuntimeError("oidc_server.mjs did not start")

    yield start
    for p in procs:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


@pytest.fixture
def oidc_horde(tmp_path, oidc):
    made = []

    def make(discovery: bool = True) -> tuple[Horde, str]:
        port = free_port()
        issuer = oidc(port)
        if discovery:
            args = ("--oauth-generic-issuer", issuer)
        else:
            args = ("--oauth-generic-authorize-url", issuer + "/auth",
                    "--oauth-generic-token-url", issuer + "/token",
                    "--oauth-generic-userinfo-url", issuer + "/me")
        h = Horde(tmp_path / f"data{len(made)}", extra_args=(
            "--oauth-generic-client-id", CLIENT_ID, "--oauth-generic-client-secret",
            CLIENT_SECRET, "--oauth-generic-display-name", "Test IdP", *args))
        made.append(h)
        h.start(port=port)
        return h, issuer

    yield make
    for h in made:
        h.stop()


def form_of(page: str) -> tuple[str, dict]:
    m = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', page, re.S)
    assert m, page[:2000]
    fields = {}
    for inp in re.finditer(r"<input([^>]*)>", m.group(2)):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', inp.group(1)))
        if "name" in attrs:
            fields[attrs["name"]] = html.unescape(attrs.get("value", ""))
    return html.unescape(m.group(1)), fields


def login_flow(h: Horde, s: requests.Session, login: str = "alice", deny: bool = False,
               return_to: str = "/account", tamper=None) -> requests.Response:
    """Runs a login until the redirect back to horded's callback; returns the callback answer."""
    r = s.get(h.base + "/auth/login/oidc", params={"return_to": return_to},
              allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.text
    assert "horde_oauth=" in r.headers["Set-Cookie"]
    oauth_cookie = r.headers["Set-Cookie"]
    assert "Path=/auth" in oauth_cookie and "HttpOnly" in oauth_cookie
    assert "SameSite=Lax" in oauth_cookie and "Max-Age=600" in oauth_cookie
    url = r.headers["Location"]
    q = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    assert q["code_challenge_method"] == ["S256"] and q["code_challenge"][0]
    assert q["state"][0] and q["nonce"][0] and q["response_type"] == ["code"]
    assert q["redirect_uri"] == [h.base + "/auth/callback/oidc"]
    assert CLIENT_SECRET not in url
    for _ in range(20):
        if url.startswith(h.base + "/auth/callback/"):
            if tamper:
                url = tamper(url)
            return s.get(url, allow_redirects=False, timeout=30)
        r = s.get(url, allow_redirects=False, timeout=30)
        if r.status_code in (302, 303):
            url = urllib.parse.urljoin(url, r.headers["Location"])
            continue
        assert r.status_code == 200, (url, r.status_code, r.text[:500])
        page = r.text
        if deny:
            uid = re.search(r"/interaction/([^/\"]+)", url).group(1)
            url = urllib.parse.urljoin(url, f"/interaction/{uid}/abort")
            continue
        action, fields = form_of(page)
        if fields.get("prompt") == "login":
            fields.update(login=login, password="anything")
        r = s.post(urllib.parse.urljoin(url, action), data=fields, allow_redirects=False,
                   timeout=30)
        assert r.status_code in (302, 303), r.text[:500]
        url = urllib.parse.urljoin(url, r.headers["Location"])
    raise AssertionError("login did not come back to horded")


def session_of(h: Horde, s: requests.Session) -> dict:
    r = s.get(h.base + "/api/web/session", timeout=30)
    assert r.status_code == 200
    return r.json()


def test_config_lists_the_generic_provider(oidc_horde):
    h, _ = oidc_horde()
    cfg = requests.get(h.base + "/api/web/config", timeout=30).json()
    assert cfg["providers"] == [{"id": "oidc", "name": "Test IdP"}]
    assert CLIENT_SECRET not in h.log_tail(100000)


def test_first_login_creates_the_account_then_finds_it(oidc_horde):
    h, _ = oidc_horde()
    s = requests.Session()
    r = login_flow(h, s, login="alice")
    assert r.status_code == 302, r.text
    assert r.headers["Location"] == "/account"
    cookies = r.raw.headers.getlist("Set-Cookie")
    cookie = next(c for c in cookies if c.startswith("horde_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/;" in cookie
    # The login state is spent: the same answer deletes horde_oauth.
    cleared = next(c for c in cookies if c.startswith("horde_oauth="))
    assert "Max-Age=0" in cleared and "Path=/auth" in cleared
    assert s.cookies.get("horde_oauth") is None
    me = session_of(h, s)
    assert me["logged_in"] is True
    assert me["user"]["username"].startswith("Name alice#")
    assert me["user"]["pseudonymous"] is False
    key = me["new_api_key"]
    assert "new_api_key" not in session_of(h, s)  # shown once
    assert h.client(key).get("/find_user").json()["id"] == me["user"]["id"]
    uid = me["user"]["id"]
    rows = h.sql("SELECT data FROM users WHERE id = ?", (uid,))
    assert "oidc_alice" in rows[0][0]
    # A second login (new browser) finds the same account and shows no key.
    s2 = requests.Session()
    r = login_flow(h, s2, login="alice", return_to="/generate")
    assert r.status_code == 302 and r.headers["Location"] == "/generate"
    again = session_of(h, s2)
    assert again["user"]["id"] == uid and "new_api_key" not in again
    # Another person gets another account.
    s3 = requests.Session()
    login_flow(h, s3, login="bob")
    assert session_of(h, s3)["user"]["id"] != uid
    assert CLIENT_SECRET not in h.log_tail(100000)


def test_denied_consent_makes_no_session(oidc_horde):
    h, _ = oidc_horde()
    s = requests.Session()
    r = login_flow(h, s, deny=True)
    assert r.status_code == 302
    assert r.headers["Location"] == "/login?error=access_denied"
    assert "horde_session" not in r.headers.get("Set-Cookie", "")
    assert s.cookies.get("horde_oauth") is None  # the state was used: deleted
    assert session_of(h, s)["logged_in"] is False


def test_bad_or_missing_state_is_refused(oidc_horde):
    h, _ = oidc_horde()

    def bad_state(url: str) -> str:
        return re.sub(r"state=[^&]+", "state=forged", url)

    def no_state(url: str) -> str:
        return re.sub(r"&?state=[^&]+", "", url)

    for tamper in (bad_state, no_state):
        s = requests.Session()
        r = login_flow(h, s, tamper=tamper)
        assert r.status_code == 302 and r.headers["Location"] == "/login?error=invalid_state"
        assert "horde_session" not in r.headers.get("Set-Cookie", "")
        assert session_of(h, s)["logged_in"] is False
        # Another state does not spend this browser's login state.
        assert s.cookies.get("horde_oauth") is not None

    # A callback in a browser that never started the login (no horde_oauth cookie).
    s = requests.Session()
    captured = {}

    def steal(url: str) -> str:
        captured["url"] = url
        return url

    login_flow(h, s, tamper=steal)
    fresh = requests.Session()
    r = fresh.get(captured["url"], allow_redirects=False, timeout=30)
    assert r.headers["Location"] == "/login?error=invalid_state"
    assert session_of(h, fresh)["logged_in"] is False


def test_pkce_verifier_is_checked_by_the_provider(oidc_horde):
    """The provider refuses a code redeemed without the login's verifier; horded sends the right
    one (the normal login works), and a replayed code gives no session."""
    h, issuer = oidc_horde()
    s = requests.Session()
    captured = {}

    def keep(url: str) -> str:
        captured["url"] = url
        return h.base + "/auth/callback/oidc?error=interrupted_by_test&state=x"

    login_flow(h, s, tamper=keep)
    code = urllib.parse.parse_qs(urllib.parse.urlparse(captured["url"]).query)["code"][0]
    r = requests.post(issuer + "/token", data={
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": h.base + "/auth/callback/oidc", "code_verifier": "x" * 64,
    }, auth=(CLIENT_ID, CLIENT_SECRET), timeout=30)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    # The real callback: horded presents the login's own verifier, which the provider accepts.
    state_cookie = s.cookies.get("horde_oauth")
    assert state_cookie  # the callback with another state left it
    r = s.get(captured["url"], allow_redirects=False, timeout=30)
    assert r.headers["Location"] == "/account", r.headers
    assert session_of(h, s)["logged_in"] is True
    # A replay of the spent code (state still valid in another browser's copy) is refused.
    replay = requests.Session()
    replay.cookies.set("horde_oauth", state_cookie)
    r = replay.get(captured["url"], allow_redirects=False, timeout=30)
    assert r.headers["Location"] == "/login?error=provider_error", r.headers
    assert session_of(h, replay)["logged_in"] is False


def test_explicit_endpoints_without_discovery(oidc_horde):
    h, _ = oidc_horde(discovery=False)
    s = requests.Session()
    r = login_flow(h, s, login="carol")
    assert r.status_code == 302 and r.headers["Location"] == "/account", r.headers
    me = session_of(h, s)
    assert me["logged_in"] and me["user"]["username"].startswith("Name carol#")


def test_login_input_is_checked(oidc_horde):
    h, _ = oidc_horde()
    for bad in ("//evil.example/x", "https://evil.example/", "/\\evil", "account"):
        r = requests.get(h.base + "/auth/login/oidc", params={"return_to": bad},
                         allow_redirects=False, timeout=30)
        assert_error(r, 400)
    assert_error(requests.get(h.base + "/auth/login/nope", allow_redirects=False, timeout=30),
                 404, "UnknownProvider")
    r = requests.get(h.base + "/auth/callback/oidc?code=x&state=y", allow_redirects=False,
                     timeout=30)
    assert r.status_code == 302 and r.headers["Location"] == "/login?error=invalid_state"
