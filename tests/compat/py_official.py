#!/usr/bin/env python3
"""Referee: the official Python SDK `alibabacloud-dingtalk` (oauth2_1_0 and contact_1_0), every
call made twice, once with the sync client (requests) and once with the async one (aiohttp).

Usage: py_official.py HOST:PORT ADMIN_TOKEN   (a `dingdir dev` server with the demo directory)

Errors are asserted through the SDK's own exception, as an app sees them: `e.code`,
`e.statusCode`, `e.data` (SDK-WIRE.md §1.4). Exit status 0 when every check passed.
"""

import sys

sys.dont_write_bytecode = True  # keep tests/compat free of __pycache__

import asyncio
import importlib.metadata

from alibabacloud_dingtalk.contact_1_0 import client as contact_client
from alibabacloud_dingtalk.contact_1_0 import models as contact_models
from alibabacloud_dingtalk.oauth2_1_0 import client as oauth_client
from alibabacloud_dingtalk.oauth2_1_0 import models as oauth_models
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_util import models as util_models
from Tea.exceptions import TeaException

from compat_common import (
    DEMO_CO, MOBILE, OTHER_CO, REQUEST_ID_RE, SECRETS, SUITE_TICKET, TOKEN_RE,
    Checks, Dingdir, eq, matches, ne, parse_args, raises,
)


class Mode:
    """Calls an SDK operation the sync way (`op`) or the async way (`op_async`)."""

    def __init__(self, is_async):
        self.is_async = is_async
        self.name = "async" if is_async else "sync"

    def __call__(self, client, op, *args):
        if self.is_async:
            return asyncio.run(getattr(client, op + "_async")(*args))
        return getattr(client, op)(*args)


class Env:
    """The server, SDK clients pointed at it, and user tokens minted once for every mode."""

    def __init__(self, dd):
        self.dd = dd
        config = open_api_models.Config(protocol="http", region_id="central", endpoint=dd.hostport)
        self.oauth = oauth_client.Client(config)
        self.contact = contact_client.Client(config)
        self.tokens = {}
        for key, app, who in [
            ("zhangsan", "dingdemointernal", "zhangsan"),
            ("lisi", "dingdemointernal", "lisi"),
            ("sunqi", "dingdemointernal", "sunqi"),
            ("chanxm", "dingdemointernal", "chanxm"),
            ("zhangsan@readonly", "dingdemoreadonly", "zhangsan"),
            ("zhangsan@suite", "dingdemosuite", "zhangsan"),
            ("lisi@suite", "dingdemosuite", "lisi"),
            ("zhouba@suite", "dingdemosuite", "zhouba"),
        ]:
            self.tokens[key] = dd.mint(app, mobile=MOBILE[who])["accessToken"]
        self._wangwu_union_id = None

    def departed_union_id(self):
        """wangwu is departed, and a departed person cannot sign in. To learn his unionId, the
        admin seed API makes him active for a moment, then departed again (once per server)."""
        if self._wangwu_union_id is not None:
            return self._wangwu_union_id
        seed = """people:
  - id: wangwu
    nick: wangwu
    mobile: "13800000001"
    email: wangwu@example.com
    password: demo-password
    memberships:
      - { corp: %s, userid: wangwu, name: 王五, status: %s }
"""
        departed = "departed, left_at: 1793583000000, leave_reason: leave"  # as the demo has him
        self.dd.apply_seed(seed % (DEMO_CO, "active"))
        token = self.dd.mint("dingdemointernal", mobile=MOBILE["wangwu"])["accessToken"]
        union_id = self.get_user(Mode(False), token, "me").body.union_id
        self.dd.apply_seed(seed % (DEMO_CO, departed))
        self._wangwu_union_id = union_id
        return union_id

    def get_user(self, mode, token, union_id):
        headers = contact_models.GetUserHeaders(x_acs_dingtalk_access_token=token)
        return mode(self.contact, "get_user_with_options", union_id, headers, util_models.RuntimeOptions())

    def user_token(self, mode, **request):
        return mode(self.oauth, "get_user_token", oauth_models.GetUserTokenRequest(**request))


def api_error(fn, code, status):
    """The SDK raised a TeaException carrying the gateway's error body; returns it."""
    e = raises(fn, TeaException)
    eq(e.code, code, "e.code")
    eq(e.statusCode, status, "e.statusCode")
    eq(e.data.get("code"), code, "e.data['code']")
    eq(e.data.get("statusCode"), status, "e.data['statusCode']")
    matches(REQUEST_ID_RE, e.data.get("requestid"), "e.data['requestid']")
    if not e.message.startswith(f"code: {status}, ") or not e.message.endswith(e.data["requestid"]):
        raise AssertionError(f"e.message does not carry the status and request id: {e.message!r}")
    return e


# ---------------------------------------------------------------- oauth2_1_0


def check_app_token(env, mode):
    req = oauth_models.GetAccessTokenRequest(app_key="dingdemointernal", app_secret=SECRETS["dingdemointernal"])
    first = mode(env.oauth, "get_access_token", req)
    eq(first.status_code, 200, "status_code")
    matches(TOKEN_RE, first.body.access_token, "access_token")
    eq(first.body.expire_in, 7200, "expire_in")
    again = mode(env.oauth, "get_access_token", req)
    eq(again.body.access_token, first.body.access_token, "an internal app asking again gets the same token")


def check_app_token_bad_secret(env, mode):
    for key, secret in [("dingdemointernal", "not-the-secret"), ("dingnosuchapp", "x")]:
        req = oauth_models.GetAccessTokenRequest(app_key=key, app_secret=secret)
        api_error(lambda: mode(env.oauth, "get_access_token", req), "invalidClientIdOrSecret", 400)


def check_user_token_from_code(env, mode):
    secret = SECRETS["dingdemointernal"]
    code = env.dd.code("dingdemointernal", "zhangsan", state=f"py-{mode.name}")
    r = env.user_token(mode, client_id="dingdemointernal", client_secret=secret,
                       code=code, grant_type="authorization_code")
    eq(r.status_code, 200, "status_code")
    matches(TOKEN_RE, r.body.access_token, "access_token")
    matches(TOKEN_RE, r.body.refresh_token, "refresh_token")
    eq(r.body.expire_in, 7200, "expire_in")
    eq(r.body.corp_id, DEMO_CO, "corp_id (scope openid corpid)")
    eq(env.get_user(mode, r.body.access_token, "me").body.nick, "zhangsan", "nick of the signed-in person")
    api_error(lambda: env.user_token(mode, client_id="dingdemointernal", client_secret=secret,
                                     code=code, grant_type="authorization_code"), "invalidCode", 400)
    other = env.dd.code("dingdemointernal", "zhangsan")
    api_error(lambda: env.user_token(mode, client_id="dingdemointernal", client_secret="wrong",
                                     code=other, grant_type="authorization_code"), "invalidClientIdOrSecret", 400)
    api_error(lambda: env.user_token(mode, client_id="dingdemointernal", client_secret=secret,
                                     code="0" * 32, grant_type="authorization_code"), "invalidCode", 400)


def check_user_token_refresh(env, mode):
    secret = SECRETS["dingdemointernal"]
    first = env.dd.mint("dingdemointernal", mobile=MOBILE["lisi"])
    r = env.user_token(mode, client_id="dingdemointernal", client_secret=secret,
                       refresh_token=first["refreshToken"], grant_type="refresh_token")
    eq(r.status_code, 200, "status_code")
    matches(TOKEN_RE, r.body.access_token, "access_token")
    matches(TOKEN_RE, r.body.refresh_token, "refresh_token")
    ne(r.body.access_token, first["accessToken"], "refreshed access token")
    eq(r.body.expire_in, 7200, "expire_in")
    eq(env.get_user(mode, r.body.access_token, "me").body.nick, "lisi", "nick with the refreshed token")
    api_error(lambda: env.user_token(mode, client_id="dingdemointernal", client_secret=secret,
                                     refresh_token="f" * 32, grant_type="refresh_token"), "invalidRefreshToken", 400)


def check_corp_token(env, mode):
    def corp_token(key="dingdemosuite", ticket=SUITE_TICKET):
        req = oauth_models.GetCorpAccessTokenRequest(
            suite_key=key, suite_secret=SECRETS.get(key, "x"), auth_corp_id=OTHER_CO, suite_ticket=ticket)
        return mode(env.oauth, "get_corp_access_token", req)

    first = corp_token()
    eq(first.status_code, 200, "status_code")
    matches(TOKEN_RE, first.body.access_token, "access_token")
    eq(first.body.expire_in, 7200, "expire_in")
    ne(corp_token().body.access_token, first.body.access_token, "a third-party corp token is new each time")
    api_error(lambda: corp_token(ticket="not-the-ticket"), "invalidSuiteTicket", 400)
    api_error(lambda: corp_token(key="dingnosuchsuite"), "invalidSuiteKey", 400)


# ---------------------------------------------------------------- contact_1_0 GetUser


def check_get_user_me(env, mode):
    r = env.get_user(mode, env.tokens["zhangsan"], "me")
    eq(r.status_code, 200, "status_code")
    b = r.body
    eq(b.nick, "zhangsan", "nick")
    eq(b.avatar_url, "https://static.example.com/avatar/zhangsan.png", "avatar_url")
    eq(b.mobile, "15000009144", "mobile")
    eq(b.state_code, "86", "state_code")
    eq(b.email, "zhangsan@example.com", "email")
    eq(b.visitor, False, "visitor")
    for field in ("union_id", "open_id"):
        value = getattr(b, field)
        if not (isinstance(value, str) and value.isalnum() and 20 <= len(value) <= 30):
            raise AssertionError(f"{field} {value!r} does not look like a DingTalk id")
    matches(REQUEST_ID_RE, r.headers.get("x-acs-request-id"), "x-acs-request-id header")
    own = env.get_user(mode, env.tokens["zhangsan"], b.union_id)
    eq(own.body.to_map(), b.to_map(), "GetUser(own unionId) equals GetUser(me)")


def check_get_user_co_member(env, mode):
    lisi = env.get_user(mode, env.tokens["lisi"], "me").body
    seen = env.get_user(mode, env.tokens["zhangsan"], lisi.union_id).body
    eq(seen.nick, "lisi", "nick")
    eq(seen.union_id, lisi.union_id, "union_id")
    eq(seen.open_id, lisi.open_id, "open_id (same app)")
    eq(seen.mobile, "15532403240", "mobile")


def check_get_user_not_visible(env, mode):
    # zhouba is only in Other Co; lisi only in Demo Co; the suite is one developer in both.
    zhouba = env.get_user(mode, env.tokens["zhouba@suite"], "me").body.union_id
    e = api_error(lambda: env.get_user(mode, env.tokens["lisi@suite"], zhouba), "invalidParameter.user.notFound", 404)
    not_found = e.data
    for union_id in ["ZbSRiSPiiiKZtt5ZYiSiiIQiEiE", env.departed_union_id()]:  # unknown; departed
        e = api_error(lambda: env.get_user(mode, env.tokens["zhangsan"], union_id),
                      "invalidParameter.user.notFound", 404)
        eq(e.data["message"], not_found["message"], "the same message, so existence does not leak")


def check_get_user_ids_per_developer(env, mode):
    internal = env.get_user(mode, env.tokens["zhangsan"], "me").body
    readonly = env.get_user(mode, env.tokens["zhangsan@readonly"], "me").body
    suite = env.get_user(mode, env.tokens["zhangsan@suite"], "me").body
    eq(readonly.union_id, internal.union_id, "unionId in two apps of one developer")
    ne(readonly.open_id, internal.open_id, "openId in two apps")
    ne(suite.union_id, internal.union_id, "unionId under two developers")
    ne(suite.open_id, internal.open_id, "openId under two developers")


def check_get_user_mobile_forms(env, mode):
    readonly = env.get_user(mode, env.tokens["zhangsan@readonly"], "me").body
    eq(readonly.mobile, None, "mobile without Contact.User.mobile")
    eq(readonly.state_code, None, "state_code without a mobile")
    if "mobile" in readonly.to_map() or "stateCode" in readonly.to_map():
        raise AssertionError(f"mobile keys present: {readonly.to_map()}")
    suite = env.get_user(mode, env.tokens["zhangsan@suite"], "me").body
    eq(suite.mobile, "150****9144", "mobile for a third-party enterprise app")
    eq(suite.state_code, "86", "state_code")
    chan = env.get_user(mode, env.tokens["chanxm"], "me").body
    eq(chan.mobile, "91234567", "foreign mobile")
    eq(chan.state_code, "852", "foreign state_code")


def check_get_user_empty_fields_absent(env, mode):
    b = env.get_user(mode, env.tokens["sunqi"], "me").body
    eq(b.email, None, "email")
    eq(b.avatar_url, None, "avatar_url")
    eq(b.visitor, False, "visitor")
    m = b.to_map()
    for key in ("email", "avatarUrl", "loginEmail"):
        if key in m:
            raise AssertionError(f"{key} present in {m}")


def check_get_user_token_errors(env, mode):
    api_error(lambda: mode(env.contact, "get_user", "me"), "AuthenticationFailed.MissingParameter", 400)
    api_error(lambda: env.get_user(mode, "0123456789abcdef0123456789abcdef", "me"), "InvalidAuthentication", 400)
    app = mode(env.oauth, "get_access_token", oauth_models.GetAccessTokenRequest(
        app_key="dingdemointernal", app_secret=SECRETS["dingdemointernal"])).body.access_token
    e = api_error(lambda: env.get_user(mode, app, "me"), "Forbidden.AccessDenied.AccessTokenPermissionDenied", 403)
    eq(e.data.get("accessdenieddetail"), {"requiredScopes": ["Contact.User.Read"]}, "e.data['accessdenieddetail']")
    inner = getattr(e, "inner_exception", None)  # tea-openapi 0.4.x keeps the detail there
    detail = e.accessDeniedDetail or getattr(inner, "accessDeniedDetail", None)
    eq(detail, {"requiredScopes": ["Contact.User.Read"]}, "accessDeniedDetail")


def check_expired_token(env, modes):
    """After the clock passes 7200 s the user token is refused; its refresh token still works."""
    minted = env.dd.mint("dingdemointernal", mobile=MOBILE["zhangsan"])
    env.dd.advance_clock(7201)
    for mode in modes:
        api_error(lambda: env.get_user(mode, minted["accessToken"], "me"), "InvalidAuthentication", 400)
    r = env.user_token(modes[0], client_id="dingdemointernal", client_secret=SECRETS["dingdemointernal"],
                       refresh_token=minted["refreshToken"], grant_type="refresh_token")
    for mode in modes:
        eq(env.get_user(mode, r.body.access_token, "me").body.nick, "zhangsan", "nick after refresh")


# ---------------------------------------------------------------- contact_1_0 ListEmpLeaveRecords


def leave_records(env, mode, token, **request):
    headers = contact_models.ListEmpLeaveRecordsHeaders(x_acs_dingtalk_access_token=token)
    req = contact_models.ListEmpLeaveRecordsRequest(**request)
    return mode(env.contact, "list_emp_leave_records_with_options", req, headers, util_models.RuntimeOptions())


def app_token(env, mode, app_key):
    req = oauth_models.GetAccessTokenRequest(app_key=app_key, app_secret=SECRETS[app_key])
    return mode(env.oauth, "get_access_token", req).body.access_token


def check_emp_leave_records(env, mode):
    token = app_token(env, mode, "dingdemointernal")
    window = {"start_time": "2026-11-01T00:00:00Z", "end_time": "2026-12-01T00:00:00Z"}
    r = leave_records(env, mode, token, next_token="0", max_results=50, **window)
    eq(r.status_code, 200, "status_code")
    eq(r.body.next_token, None, "next_token on the only page")
    eq(len(r.body.records), 1, "records")
    w = r.body.records[0]
    eq((w.user_id, w.name, w.state_code, w.mobile, w.leave_time, w.leave_reason),
       ("wangwu", "王五", "86", "13800000001", "2026-11-02T01:30:00Z", "leave"), "wangwu's record")
    eq(leave_records(env, mode, token, max_results=10, start_time="2026-11-03T00:00:00Z",
                     end_time="2026-12-01T00:00:00Z").body.records, [], "a window after his departure")
    e = api_error(lambda: leave_records(env, mode, token, max_results=51, **window), "invalidParameter.param.invalid", 400)
    eq(e.data.get("message"), "入参错误：maxResults", "message")
    readonly = app_token(env, mode, "dingdemoreadonly")
    e = api_error(lambda: leave_records(env, mode, readonly, max_results=10, **window),
                  "Forbidden.AccessDenied.AccessTokenPermissionDenied", 403)
    eq(e.data.get("accessdenieddetail"), {"requiredScopes": ["Contact.Common.Read"]}, "accessdenieddetail")


def check_qps_limit(env, mode):
    """A per-minute limit of 2 GetUser calls for the demo app: the third call raises what
    DingTalk's QPS limit gives the SDK, an UnretryableException with the 403 and its code."""
    env.dd.advance_clock(60)  # a minute window of this run's own
    env.dd.admin("PUT", "/_dingdir/rate-limits",
                 {"limits": [{"app": "dingdemointernal", "endpoint": "GetUser", "limit": 2, "per": "minute"}]})
    try:
        token = env.dd.mint("dingdemointernal", mobile=MOBILE["zhangsan"])["accessToken"]
        for n in (1, 2):
            eq(env.get_user(mode, token, "me").body.nick, "zhangsan", f"call {n}")
        e = api_error(lambda: env.get_user(mode, token, "me"), "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi", 403)
        eq(type(e).__name__, "UnretryableException", "the exception's class (the SDK does not retry it)")
        eq(e.data.get("message"), "您的企业应用调用钉钉开放平台当前接口的所有请求都被暂时禁用了", "message")
        env.dd.admin("PUT", "/_dingdir/rate-limits",
                     {"limits": [{"app": "dingdemointernal", "endpoint": "GetUser", "limit": 1}]})
        env.get_user(mode, token, "me")  # a second's first call may pass, the next may not
        e = api_error(lambda: [env.get_user(mode, token, "me") for _ in range(3)],
                      "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", 403)
        eq(type(e).__name__, "UnretryableException", "the exception's class")
    finally:
        env.dd.admin("DELETE", "/_dingdir/rate-limits")


CHECKS = [
    check_app_token,
    check_app_token_bad_secret,
    check_user_token_from_code,
    check_user_token_refresh,
    check_corp_token,
    check_get_user_me,
    check_get_user_co_member,
    check_get_user_not_visible,
    check_get_user_ids_per_developer,
    check_get_user_mobile_forms,
    check_get_user_empty_fields_absent,
    check_get_user_token_errors,
    check_emp_leave_records,
    check_qps_limit,
]


def main():
    hostport, admin_token, _ = parse_args("py_official.py HOST:PORT ADMIN_TOKEN")
    for dist in ("alibabacloud-dingtalk", "alibabacloud-tea-openapi", "darabonba-core", "alibabacloud-tea"):
        print(f"{dist} {importlib.metadata.version(dist)}")
    checks = Checks("py_official")
    env = Env(Dingdir(hostport, admin_token))
    modes = [Mode(False), Mode(True)]
    for mode in modes:
        for check in CHECKS:
            checks.run(f"{mode.name} {check.__name__}", check, env, mode)
    checks.run("sync+async check_expired_token", check_expired_token, env, modes)
    checks.finish()


if __name__ == "__main__":
    main()
