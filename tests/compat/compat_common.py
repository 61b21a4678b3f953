"""Shared by the Python referee drivers: a tiny check runner, the admin API, and the browser
sign-in walked with urllib (to get real authorisation codes without a browser).

Only the standard library: the drivers must stay runnable with nothing but the pinned SDKs.
Every request goes to the dingdir under test on 127.0.0.1; no proxy is ever used.
"""

import html.parser
import http.cookiejar
import json
import os
import re
import sys
import traceback
import urllib.error
import urllib.parse
import urllib.request

# The demo directory (examples/demo.yaml).
DEMO_CO = "ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4"
OTHER_CO = "ding0b7e4d2a6c8f1e3b5d7a9c2e4f6b8d01"
PASSWORD = "demo-password"
REDIRECT_URI = "http://127.0.0.1:3000/callback"
SECRETS = {
    "dingdemointernal": "demo-internal-secret",
    "dingdemoreadonly": "demo-readonly-secret",
    "dingothercoapp": "other-internal-secret",
    "dingdemosuite": "demo-suite-secret",
    "dingdemopersonal": "demo-personal-secret",
}
SUITE_TICKET = "demo-suite-ticket"
MOBILE = {
    "zhangsan": "15000009144",
    "lisi": "15532403240",
    "wangwu": "13800000001",
    "chanxm": "+852-91234567",
    "sunqi": "13900000007",
    "zhouba": "13700000008",
}

TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
REQUEST_ID_RE = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")

for _var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
    os.environ.pop(_var, None)  # the SDKs read these; nothing here may leave 127.0.0.1
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


def parse_args(usage):
    """`DRIVER HOST:PORT ADMIN_TOKEN [more...]` -> (hostport, admin_token, rest)."""
    if len(sys.argv) < 3 or "://" in sys.argv[1]:
        sys.exit(f"usage: {usage}")
    hostport = sys.argv[1]
    if not hostport.startswith("127.0.0.1:"):
        sys.exit(f"refusing to talk to {hostport}: only 127.0.0.1 is allowed")
    return hostport, sys.argv[2], sys.argv[3:]


# ---------------------------------------------------------------- checks


class Checks:
    """Runs named checks, keeps going after a failure, and exits non-zero if any failed."""

    def __init__(self, driver):
        self.driver = driver
        self.passed = 0
        self.failed = []

    def run(self, name, fn, *args):
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 - a referee reports every failure, then moves on
            self.failed.append(name)
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc(file=sys.stdout)
            return
        self.passed += 1
        print(f"ok   {name}", flush=True)

    def finish(self):
        print(f"{self.driver}: {self.passed} checks ok, {len(self.failed)} failing", flush=True)
        for name in self.failed:
            print(f"  failing: {name}", flush=True)
        sys.exit(1 if self.failed else 0)


def eq(actual, expected, what):
    # Types count: the official Python SDK checks none, so a `"false"` or `7200.0` on the wire
    # would reach the app as is. Containers may be subclasses (the community SDK's ObjectDict).
    if actual != expected or not isinstance(actual, type(expected)) or (
            type(expected) in (bool, int, float, str, type(None)) and type(actual) is not type(expected)):
        raise AssertionError(f"{what}: expected {expected!r} ({type(expected).__name__}), "
                             f"got {actual!r} ({type(actual).__name__})")


def ne(a, b, what):
    if a == b:
        raise AssertionError(f"{what}: both are {a!r}")


def matches(regex, value, what):
    if not isinstance(value, str) or not regex.match(value):
        raise AssertionError(f"{what}: {value!r} does not match {regex.pattern}")


def raises(fn, exc_type):
    """Calls fn and returns the exception it raised, which must be an `exc_type`."""
    try:
        result = fn()
    except exc_type as e:
        return e
    raise AssertionError(f"expected {exc_type.__name__}, the call returned {result!r}")


# ---------------------------------------------------------------- plain HTTP


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_json(method, url, body=None, headers=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if body is not None and not isinstance(body, bytes):
        req.add_header("content-type", "application/json")
    try:
        with _opener.open(req, timeout=20) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class Dingdir:
    """The server under test: its admin API and its browser sign-in."""

    def __init__(self, hostport, admin_token):
        self.hostport = hostport
        self.base = f"http://{hostport}"
        self.admin_token = admin_token

    def admin(self, method, path, body=None, content_type=None):
        headers = {"authorization": f"Bearer {self.admin_token}"}
        if content_type:
            headers["content-type"] = content_type
        status, answer = http_json(method, self.base + path, body, headers)
        if not 200 <= status < 300:
            raise AssertionError(f"admin {method} {path} answered {status}: {answer}")
        return answer

    def mint(self, app_key, mobile=None, corp_id=None, userid=None):
        """A user token through the admin API (`POST /_dingdir/tokens/user`): accessToken etc."""
        body = {"app_key": app_key}
        if mobile:
            body["mobile"] = mobile
        if corp_id:
            body["corp_id"], body["userid"] = corp_id, userid
        return self.admin("POST", "/_dingdir/tokens/user", body)

    def auth_code(self, app_key, userid, corp_id=None):
        """An in-app sign-in code (`POST /_dingdir/auth-codes`), as `dd.getAuthCode` gives a page."""
        body = {"app_key": app_key, "userid": userid}
        if corp_id:
            body["corp_id"] = corp_id
        return self.admin("POST", "/_dingdir/auth-codes", body)["code"]

    def apply_seed(self, yaml_text):
        return self.admin("POST", "/_dingdir/seed", yaml_text.encode(), "application/yaml")

    def add_fault(self, rule):
        """Arms a fault rule (`POST /_dingdir/faults`); answers it with its id and counters."""
        return self.admin("POST", "/_dingdir/faults", rule)

    def faults(self):
        """The fault rules with their counters (`GET /_dingdir/faults`)."""
        return self.admin("GET", "/_dingdir/faults")["faults"]

    def clear_faults(self):
        return self.admin("DELETE", "/_dingdir/faults")

    def journal_seq(self):
        """The newest journal entry's seq (0 when it is empty): count from here with `after`."""
        entries = self.admin("GET", "/_dingdir/journal?limit=1")["entries"]
        return entries[-1]["seq"] if entries else 0

    def journal_count(self, **filters):
        """How many journal entries match (`GET /_dingdir/journal/count`)."""
        query = urllib.parse.urlencode({k: str(v).lower() if isinstance(v, bool) else v for k, v in filters.items()})
        return self.admin("GET", "/_dingdir/journal/count?" + query)["count"]

    def advance_clock(self, secs):
        return self.admin("POST", "/_dingdir/clock", {"advance_secs": secs})

    def authorize_url(self, app_key, state, scope="openid corpid"):
        q = urllib.parse.urlencode({
            "redirect_uri": REDIRECT_URI, "response_type": "code", "client_id": app_key,
            "scope": scope, "state": state, "prompt": "consent"}, quote_via=urllib.parse.quote)
        return f"{self.base}/oauth2/auth?{q}"

    def sign_in(self, app_key, mobile, password=PASSWORD, state="st-1", decision="approve"):
        """Walks the HTML sign-in as a browser would (form fields, csrf cookie, consent) and
        returns the query of the redirect to the app, e.g. {"code", "authCode", "state"}."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
        lang = {"accept-language": "en-US,en;q=0.9"}

        def send(url, fields=None):
            data = None if fields is None else urllib.parse.urlencode(fields).encode()
            req = urllib.request.Request(url, data=data, headers=lang)
            try:
                with opener.open(req, timeout=20) as r:
                    return r.status, r.headers, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.headers, e.read().decode()

        status, _, page = send(self.authorize_url(app_key, state))
        if status != 200:
            raise AssertionError(f"authorize page answered {status}: {page[:300]}")
        if not any(c.name == "dingdir_csrf" for c in jar):
            raise AssertionError("the authorize page set no dingdir_csrf cookie")
        form = _forms(page).get("/oauth2/auth/signin")
        if form is None:
            raise AssertionError(f"no sign-in form on the authorize page: {page[:300]}")
        form.update({"mobile": mobile, "password": password})
        status, _, page = send(self.base + "/oauth2/auth/signin", form)
        consent = _forms(page).get("/oauth2/auth/consent")
        if status != 200 or consent is None:
            raise AssertionError(f"sign-in did not lead to the consent page ({status}): {page[:300]}")
        consent["decision"] = decision
        status, headers, page = send(self.base + "/oauth2/auth/consent", consent)
        if status != 302:
            raise AssertionError(f"consent answered {status}, not a redirect: {page[:300]}")
        location = headers["location"]
        if not location.startswith(REDIRECT_URI + "?"):
            raise AssertionError(f"redirected to {location}, not to {REDIRECT_URI}")
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))

    def code(self, app_key, who, state="st-1"):
        """A fresh authorisation code for `who` (a demo person) signing in to `app_key`."""
        q = self.sign_in(app_key, MOBILE[who], state=state)
        eq(q.get("state"), state, "state echoed on the redirect")
        eq(q.get("authCode"), q.get("code"), "authCode equals code on the redirect")
        return q["code"]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 to the app is the answer we want to read


class _FormParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms, self._current = {}, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._current = self.forms.setdefault(a.get("action", ""), {})
        elif tag == "input" and self._current is not None and a.get("type") == "hidden":
            self._current[a.get("name", "")] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _forms(page):
    """Hidden fields of each form on the page, by the form's action."""
    p = _FormParser()
    p.feed(page)
    return p.forms
