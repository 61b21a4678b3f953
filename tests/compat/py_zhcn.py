#!/usr/bin/env python3
"""Referee: `dingtalk-oapi-zhcn` (YiZixuan, module `dingtalk_oapi_zhcn`, the client Dagster's
DingTalk integration re-exports): an httpx client whose methods have Chinese names. It takes
its app token from the new gateway (`POST /v1.0/oauth2/accessToken`, never `/gettoken`) and
reads the directory on the legacy one (`/topapi/...`), so it checks that a token of the one
works on the other.

Usage: py_zhcn.py HOST:PORT ADMIN_TOKEN   (a `dingdir dev` server with the demo directory)

The package has no base-URL option; the driver points it at dingdir without changing it:
- `DingTalkClient.__init__` builds two httpx clients, `_DingTalkClient__oapi_client`
  (base_url `https://oapi.dingtalk.com/`) and `_DingTalkClient__api_client`
  (`https://api.dingtalk.com/`). `zhcn()` sets each one's `base_url` to `http://HOST:PORT/`
  (httpx's public setter) and adds a request hook that records what the package sent.
- The token fetch (`__get_access_token`) builds a new `Client()` each time, the module-level
  name `dingtalk_oapi_zhcn.app_client.Client` (httpx's, imported by name), and posts to the
  absolute URL `https://api.dingtalk.com/v1.0/oauth2/accessToken`. `main()` replaces that name
  with `TokenClient`, which sends that one URL to HOST:PORT and refuses any other.
- The token is cached in memory and in a pickle at `Path.home() / .dingtalk_oapi_zhcn_cache_
  {app_id}`; `main()` sets HOME to a fresh temporary directory, so no run reads another's
  token or writes into a real home.

What it sends, read from `app_client.py` and asserted here: every call is `POST`, with
`?access_token=` as the only query parameter and a JSON body (`Content-Type: application/json`,
compact, non-ASCII as UTF-8). Six directory reads have a named method; the others (getbymobile,
`v2/user/list`, `user/count`, `listparentbyuser`, `listadmin`) go through its generic
`client.oapi(method, path, json=...)`, the same path the named methods take. Its methods hand
back `response.json()` unchecked, so errors are asserted on the dict the app gets.
"""

import sys

sys.dont_write_bytecode = True  # keep tests/compat free of __pycache__

import importlib.metadata
import json
import os
import pickle
import re
import tempfile
import time
from pathlib import Path

import httpx
from dingtalk_oapi_zhcn import DingTalkClient
from dingtalk_oapi_zhcn import app_client

from compat_common import MOBILE, SECRETS, TOKEN_RE, Checks, eq, matches, parse_args

UNIONID_RE = re.compile(r"^[A-Za-z0-9]{20,30}$")
TOKEN_URL = "https://api.dingtalk.com/v1.0/oauth2/accessToken"


def same(actual, expected, what):
    """`eq`, and inside containers too the JSON types must match: `1` is not `true` there."""
    eq(actual, expected, what)
    canon = [json.dumps(v, sort_keys=True, ensure_ascii=False) for v in (actual, expected)]
    if canon[0] != canon[1]:
        raise AssertionError(f"{what}: expected {canon[1]}, got {canon[0]}")


class TokenClient(httpx.Client):
    """Stands in for the `Client` the package builds for each token fetch: sends its one URL
    to dingdir and keeps every answer, so a check can count the fetches."""

    hostport = None
    answers = []

    def request(self, method, url, **kwargs):
        url = httpx.URL(url)
        if str(url) != TOKEN_URL:
            raise AssertionError(f"the package fetched a token from {url}, not {TOKEN_URL}")
        host, port = TokenClient.hostport.split(":")
        answer = super().request(method, url.copy_with(scheme="http", host=host, port=int(port)), **kwargs)
        TokenClient.answers.append(answer)
        return answer


class Zhcn:
    """A `DingTalkClient` pointed at dingdir, and the requests it sent on the legacy gateway."""

    made = 0

    def __init__(self, hostport, app_key, secret=None, app_id=None):
        Zhcn.made += 1
        self.app_id = app_id or f"{app_key}-{Zhcn.made}"  # the token cache's key
        self.client = DingTalkClient(
            app_id=self.app_id, client_id=app_key, client_secret=secret if secret is not None else SECRETS[app_key])
        self.sent = []
        for name in ("_DingTalkClient__oapi_client", "_DingTalkClient__api_client"):
            http = getattr(self.client, name)
            http.base_url = f"http://{hostport}/"
            http.event_hooks = {"request": [self._record]}
        self.users = self.client.通讯录管理.用户管理
        self.depts = self.client.通讯录管理.部门管理

    def _record(self, request):
        request.read()
        self.sent.append(request)

    def post(self, path, body):
        """The generic `client.oapi("POST", path, json=body)`; the answer as the app reads it."""
        r = self.client.oapi("POST", path, json=body)
        same(r.status_code, 200, f"HTTP status of {path} (the legacy gateway always answers 200)")
        return r.json()

    def last(self):
        """What the last legacy call put on the wire: method, path, query, content type, body."""
        r = self.sent[-1]
        return (r.method, r.url.path, list(r.url.params.multi_items()), r.headers.get("content-type"),
                json.loads(r.content))

    def expect_sent(self, path, body):
        token = self.sent[-1].url.params.get("access_token")
        matches(TOKEN_RE, token, "access_token query parameter")
        same(self.last(), ("POST", path, [("access_token", token)], "application/json", body), f"request to {path}")
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        eq(self.sent[-1].content, raw, f"body bytes of {path} (compact, UTF-8)")


def ok(answer, what):
    same(answer.get("errcode"), 0, f"{what} errcode ({answer})")
    same(answer.get("errmsg"), "ok", f"{what} errmsg")
    if not isinstance(answer.get("request_id"), str) or not answer["request_id"]:
        raise AssertionError(f"{what}: request_id missing from {answer}")
    return answer["result"]


def failed(answer, errcode, what):
    same(answer.get("errcode"), errcode, f"{what} errcode ({answer})")
    if not isinstance(answer.get("errmsg"), str) or not answer["errmsg"]:
        raise AssertionError(f"{what}: errmsg is {answer.get('errmsg')!r}")
    if "result" in answer:
        raise AssertionError(f"{what}: an error with a result: {answer}")
    return answer


def check_token_fetch_and_cache(hostport):
    fetches = len(TokenClient.answers)
    z = Zhcn(hostport, "dingdemointernal", app_id="zhcn-cache")
    ok(z.users.查询用户详情("zhangsan"), "v2/user/get")
    same(len(TokenClient.answers) - fetches, 1, "token fetches for the first call")
    fetch = TokenClient.answers[-1]
    same((fetch.request.method, fetch.request.url.path, fetch.request.headers.get("content-type")),
       ("POST", "/v1.0/oauth2/accessToken", "application/json"), "the token request")
    same(json.loads(fetch.request.content), {"appKey": "dingdemointernal", "appSecret": "demo-internal-secret"},
       "the token request's body")
    same(fetch.status_code, 200, "token HTTP status")
    answer = fetch.json()
    matches(TOKEN_RE, answer.get("accessToken"), "accessToken")
    same(answer.get("expireIn"), 7200, "expireIn (a number: the package adds it to time.time())")
    token = answer["accessToken"]
    same(z.sent[-1].url.params.get("access_token"), token, "the token the legacy call carried")
    for who in ("lisi", "chanxm"):
        ok(z.users.查询用户详情(who), f"v2/user/get {who}")
        same(z.sent[-1].url.params.get("access_token"), token, "the cached token")
    same(len(TokenClient.answers) - fetches, 1, "token fetches for three calls")
    # The file cache: a pickle in HOME, which a second client of the same app_id reads.
    cached = pickle.loads((Path.home() / ".dingtalk_oapi_zhcn_cache_zhcn-cache").read_bytes())
    same(cached["access_token"], token, "access_token in the file cache")
    if abs(cached["expire_in"] - (int(time.time()) + 7200 - 60)) > 30:
        raise AssertionError(f"expire_in in the file cache is {cached['expire_in']}, not about now + 7140 s")
    again = Zhcn(hostport, "dingdemointernal", app_id="zhcn-cache")
    same(ok(again.users.查询用户详情("zhangsan"), "v2/user/get")["userid"], "zhangsan", "userid with the file's token")
    same(again.sent[-1].url.params.get("access_token"), token, "the token read from the file cache")
    same(len(TokenClient.answers) - fetches, 1, "token fetches after a second client of the same app_id")


def check_bad_secret(hostport):
    fetches = len(TokenClient.answers)
    z = Zhcn(hostport, "dingdemointernal", secret="not-the-secret", app_id="zhcn-bad")
    try:
        z.users.查询用户详情("zhangsan")
    except TypeError:
        pass  # app_client.py adds `response.get("expireIn")`, None here, to the time
    else:
        raise AssertionError("a bad secret did not raise")
    same(len(TokenClient.answers) - fetches, 1, "token fetches")
    answer = TokenClient.answers[-1]
    same(answer.status_code, 400, "token HTTP status for a bad secret")
    same(answer.json().get("code"), "invalidClientIdOrSecret", "token error code")
    same(z.sent, [], "legacy calls sent without a token")
    same((Path.home() / ".dingtalk_oapi_zhcn_cache_zhcn-bad").exists(), False, "a file cache for a failed fetch")


def check_getbymobile(hostport):
    z = Zhcn(hostport, "dingdemointernal")
    path = "/topapi/v2/user/getbymobile"
    r = ok(z.post(path, {"mobile": MOBILE["zhangsan"]}), "getbymobile")
    z.expect_sent(path, {"mobile": "15000009144"})
    same(r, {"exclusive_account_userid_list": [], "userid": "zhangsan"}, "result")
    r = ok(z.post(path, {"mobile": MOBILE["zhangsan"], "support_exclusive_account_search": True}), "getbymobile")
    same(r, {"exclusive_account_userid_list": ["zhaoliu_ex"], "userid": "zhangsan"}, "result with exclusive accounts")
    same(ok(z.post(path, {"mobile": MOBILE["chanxm"]}), "getbymobile")["userid"], "chanxm", "foreign mobile")
    for body, errcode in [
        ({"mobile": "19999999999"}, 60121),  # unknown
        ({"mobile": MOBILE["wangwu"]}, 60121),  # departed
        ({"mobile": "张三"}, 40104),  # malformed, a non-ASCII body sent as UTF-8
        ({"mobile": ""}, 400002),  # empty
    ]:
        failed(z.post(path, body), errcode, f"getbymobile {body}")
        z.expect_sent(path, body)


def check_user_get(hostport):
    z = Zhcn(hostport, "dingdemointernal")
    u = ok(z.client.通讯录管理.查询用户详情("zhangsan"), "v2/user/get")  # the module's shortcut
    z.expect_sent("/topapi/v2/user/get", {"language": "zh_CN", "userid": "zhangsan"})
    same((u["userid"], u["name"]), ("zhangsan", "张三"), "userid, name")
    same(u["dept_id_list"], [100, 101], "dept_id_list (numbers)")
    same(u["leader_in_dept"], [{"dept_id": 100, "leader": True}, {"dept_id": 101, "leader": False}], "leader_in_dept")
    same(u["dept_order_list"], [{"dept_id": 100, "order": 0}, {"dept_id": 101, "order": 1}], "dept_order_list")
    same((u["admin"], u["boss"], u["active"], u["real_authed"], u["senior"], u["exclusive_account"]),
       (True, False, True, True, False, False), "flags (booleans)")
    same((u["title"], u["job_number"], u["hired_date"], u["work_place"], u["telephone"]),
       ("研发总监", "0001", 1577836800000, "杭州", "8001"), "HR fields")
    same((u["mobile"], u["state_code"], u["email"]), ("15000009144", "86", "zhangsan@example.com"), "contact fields")
    same(u["avatar"], "https://static.example.com/avatar/zhangsan.png", "avatar")
    matches(UNIONID_RE, u["unionid"], "unionid")
    lisi = ok(z.users.查询用户详情("lisi", language="en_US"), "v2/user/get lisi")
    z.expect_sent("/topapi/v2/user/get", {"language": "en_US", "userid": "lisi"})
    same((lisi["name"], lisi["manager_userid"], lisi["dept_id_list"], lisi["admin"]), ("李四", "zhangsan", [101], False),
       "lisi: name, manager, departments, admin")
    chan = ok(z.users.查询用户详情("chanxm"), "v2/user/get chanxm")
    same((chan["name"], chan["mobile"], chan["state_code"], chan["admin"]), ("陈小明", "91234567", "852", True),
       "chanxm: name, foreign mobile, admin")


def check_getbyunionid(hostport):
    z = Zhcn(hostport, "dingdemointernal")
    for who in ("zhangsan", "lisi"):
        unionid = ok(z.users.查询用户详情(who), f"v2/user/get {who}")["unionid"]
        r = ok(z.users.根据unionid获取用户userid(unionid), "getbyunionid")
        z.expect_sent("/topapi/user/getbyunionid", {"unionid": unionid})
        same(r, {"contact_type": 0, "userid": who}, f"getbyunionid result for {who}")


def check_departments(hostport):
    z = Zhcn(hostport, "dingdemointernal")
    d = ok(z.depts.获取部门详情(100), "v2/department/get")
    z.expect_sent("/topapi/v2/department/get", {"language": "zh_CN", "dept_id": 100})
    same((d["dept_id"], d["name"], d["parent_id"], d["order"], d["dept_manager_userid_list"]),
       (100, "研发部", 1, 1, ["zhangsan"]), "department 100")
    same((d["hide_dept"], d["outer_dept"], d["create_dept_group"]), (False, False, False), "department flags (booleans)")
    d = ok(z.depts.获取部门详情(102, language="en_US"), "v2/department/get")
    same((d["dept_id"], d["name"], d["parent_id"], d["order"]), (102, "前端组", 100, 2), "department 102")
    subs = ok(z.depts.获取部门列表(1), "v2/department/listsub")
    z.expect_sent("/topapi/v2/department/listsub", {"language": "zh_CN", "dept_id": 1})
    same([(x["dept_id"], x["name"], x["parent_id"]) for x in subs], [(100, "研发部", 1), (200, "市场部", 1)], "listsub 1")
    same(ok(z.depts.获取部门列表(101), "v2/department/listsub"), [], "listsub of a leaf")
    same(ok(z.depts.获取子部门ID列表(100), "v2/department/listsubid"), {"dept_id_list": [101, 102]}, "listsubid 100")
    z.expect_sent("/topapi/v2/department/listsubid", {"dept_id": 100})
    same(ok(z.depts.获取子部门ID列表(1), "v2/department/listsubid"), {"dept_id_list": [100, 200]}, "listsubid 1")
    path = "/topapi/v2/department/listparentbyuser"
    paths = ok(z.post(path, {"userid": "zhangsan"}), "listparentbyuser")
    z.expect_sent(path, {"userid": "zhangsan"})
    same(paths, {"parent_list": [{"parent_dept_id_list": [100, 1]}, {"parent_dept_id_list": [101, 100, 1]}]},
       "listparentbyuser zhangsan")
    same(ok(z.post(path, {"userid": "chanxm"}), "listparentbyuser"), {"parent_list": [{"parent_dept_id_list": [200, 1]}]},
       "listparentbyuser chanxm")
    same(ok(z.users.获取部门用户userid列表(101), "user/listid"), {"userid_list": ["zhangsan", "lisi"]}, "listid 101")
    z.expect_sent("/topapi/user/listid", {"dept_id": 101})
    same(ok(z.users.获取部门用户userid列表(1), "user/listid"), {"userid_list": ["sunqi", "zhaoliu_ex"]}, "listid 1")


def check_member_pages(hostport):
    z = Zhcn(hostport, "dingdemointernal")
    path = "/topapi/v2/user/list"
    page = ok(z.post(path, {"dept_id": 101, "cursor": 0, "size": 10}), "v2/user/list")
    z.expect_sent(path, {"dept_id": 101, "cursor": 0, "size": 10})
    same(page["has_more"], False, "has_more")
    same([(m["userid"], m["name"], m["dept_order"], m["leader"], m["admin"]) for m in page["list"]],
       [("zhangsan", "张三", 1, False, True), ("lisi", "李四", 2, False, False)], "v2/user/list of 101")
    seen, cursor = [], 0
    for _ in range(10):
        page = ok(z.post(path, {"dept_id": 1, "cursor": cursor, "size": 1}), "v2/user/list")
        seen += [m["userid"] for m in page["list"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    same(seen, ["sunqi", "zhaoliu_ex"], "v2/user/list pages of the root (one member a page)")
    count = ok(z.post("/topapi/user/count", {"only_active": True}), "user/count")
    z.expect_sent("/topapi/user/count", {"only_active": True})
    same(count, {"count": 5}, "count (departed wangwu is not)")
    admins = ok(z.post("/topapi/user/listadmin", {}), "user/listadmin")
    z.expect_sent("/topapi/user/listadmin", {})
    same(admins, [{"sys_level": 2, "userid": "chanxm"}, {"sys_level": 1, "userid": "zhangsan"}], "listadmin")


def check_directory_errors(hostport):
    z = Zhcn(hostport, "dingdemointernal")
    for what, call, errcode in [
        ("v2/user/get departed", lambda: z.users.查询用户详情("wangwu"), 60121),
        ("v2/user/get unknown", lambda: z.users.查询用户详情("nobody"), 60121),
        ("getbyunionid unknown", lambda: z.users.根据unionid获取用户userid("nosuchunionid0000000000"), 60121),
        ("v2/department/get unknown", lambda: z.depts.获取部门详情(999), 60003),
        ("v2/department/listsub unknown", lambda: z.depts.获取部门列表(999), 60003),
        ("v2/department/listsubid unknown", lambda: z.depts.获取子部门ID列表(999), 60003),
        ("user/listid unknown", lambda: z.users.获取部门用户userid列表(999), 60003),
        ("v2/user/list size 101", lambda: z.post("/topapi/v2/user/list", {"dept_id": 1, "cursor": 0, "size": 101}), 40035),
        ("user/count without only_active", lambda: z.post("/topapi/user/count", {}), 400002),
    ]:
        failed(call(), errcode, what)
    readonly = Zhcn(hostport, "dingdemoreadonly")
    e = failed(readonly.users.查询用户详情("zhangsan"), 88, "v2/user/get without qyapi_get_member")
    same(e.get("sub_code"), "60011", "sub_code without qyapi_get_member")
    e = failed(readonly.depts.获取部门列表(1), 88, "v2/department/listsub without qyapi_get_department_list")
    same(e.get("sub_code"), "60011", "sub_code without qyapi_get_department_list")


CHECKS = [
    check_token_fetch_and_cache,
    check_bad_secret,
    check_getbymobile,
    check_user_get,
    check_getbyunionid,
    check_departments,
    check_member_pages,
    check_directory_errors,
]


def main():
    hostport, _admin_token, _ = parse_args("py_zhcn.py HOST:PORT ADMIN_TOKEN")
    print(f"python {sys.version.split()[0]}")
    for dist in ("dingtalk-oapi-zhcn", "httpx", "pydantic"):
        print(f"{dist} {importlib.metadata.version(dist)}")
    TokenClient.hostport = hostport
    app_client.Client = TokenClient  # the package's token fetch, `Client().post(url=TOKEN_URL, ...)`
    with tempfile.TemporaryDirectory(prefix="py_zhcn-home-") as home:
        os.environ["HOME"] = home  # Path.home(): where the package keeps its token pickle
        checks = Checks("py_zhcn")
        for check in CHECKS:
            checks.run(check.__name__, check, hostport)
        checks.finish()


if __name__ == "__main__":
    main()
