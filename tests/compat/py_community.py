#!/usr/bin/env python3
"""Referee: the community Python SDK `dingtalk-sdk` (007gzs, module `dingtalk`), which speaks
the legacy gateway (`/gettoken`, `/topapi/...`) with `API_BASE_URL` pointed at dingdir.

Usage: py_community.py HOST:PORT ADMIN_TOKEN   (a `dingdir dev` server with the demo directory)

The SDK has no get-by-mobile method, so the checks use its generic `client.post`, which goes
through the same token injection, caching and error handling (SDK-WIRE.md §3.2). Errors are
asserted through its own `DingTalkClientException` (`e.errcode`, `e.errmsg`, `e.response`).
"""

import sys

sys.dont_write_bytecode = True  # keep tests/compat free of __pycache__

import importlib.metadata
import re

import requests

from dingtalk import AppKeyClient
from dingtalk.core.exceptions import DingTalkClientException

from compat_common import DEMO_CO, MOBILE, SECRETS, TOKEN_RE, Checks, Dingdir, eq, matches, parse_args, raises

GET_BY_MOBILE = "/topapi/v2/user/getbymobile"
UNIONID_RE = re.compile(r"^[A-Za-z0-9]{20,30}$")


class Counted(AppKeyClient):
    """An AppKeyClient pointed at dingdir that counts its `/gettoken` calls."""

    def __init__(self, hostport, app_key, secret=None):
        super().__init__(DEMO_CO, app_key, secret if secret is not None else SECRETS[app_key])
        self.API_BASE_URL = f"http://{hostport}/"  # root only: urljoin drops a path prefix
        self.token_fetches = 0

    def get_access_token(self):
        self.token_fetches += 1
        return super().get_access_token()


def client_error(fn, errcode):
    e = raises(fn, DingTalkClientException)
    eq(e.errcode, errcode, "e.errcode")
    if not isinstance(e.errmsg, str) or not e.errmsg:
        raise AssertionError(f"e.errmsg is {e.errmsg!r}")
    eq(e.response.status_code, 200, "HTTP status (the legacy gateway always answers 200)")
    return e


def check_token_fetch_and_cache(hostport):
    client = Counted(hostport, "dingdemointernal")
    raw = client.get_access_token()
    eq(raw["errcode"], 0, "errcode")
    eq(raw["expires_in"], 7200, "expires_in (a number: the SDK adds it to the clock)")
    matches(TOKEN_RE, raw["access_token"], "access_token")
    client.token_fetches = 0
    token = client.access_token
    eq(token, raw["access_token"], "an internal app asking again gets the same token")
    for who in ("zhangsan", "lisi"):
        client.post(GET_BY_MOBILE, {"mobile": MOBILE[who]})
    eq(client.access_token, token, "the cached token")
    eq(client.token_fetches, 1, "gettoken calls for one token and two API calls")


def check_getbymobile(hostport):
    client = Counted(hostport, "dingdemointernal")
    r = client.post(GET_BY_MOBILE, {"mobile": "15000009144"})
    eq(r["errcode"], 0, "errcode")
    eq(r.result.userid, "zhangsan", "result.userid")
    eq(r["result"]["exclusive_account_userid_list"], [], "exclusive_account_userid_list when not asked")
    if not isinstance(r.get("request_id"), str) or not r["request_id"]:
        raise AssertionError(f"request_id missing from {r}")
    r = client.post(GET_BY_MOBILE, {"mobile": "15000009144", "support_exclusive_account_search": True})
    eq(r["result"], {"exclusive_account_userid_list": ["zhaoliu_ex"], "userid": "zhangsan"}, "result")
    eq(client.post(GET_BY_MOBILE, {"mobile": "+852-91234567"}).result.userid, "chanxm", "foreign mobile")


def check_getbymobile_errors(hostport):
    client = Counted(hostport, "dingdemointernal")
    for body, errcode in [
        ({"mobile": "19999999999"}, 60121),  # unknown
        ({"mobile": MOBILE["wangwu"]}, 60121),  # departed
        ({"mobile": "abc"}, 40104),  # malformed
        ({"mobile": "张三"}, 40104),  # malformed, non-ASCII JSON body
        ({"mobile": ""}, 400002),  # empty
        ({}, 400002),  # missing
    ]:
        try:
            client_error(lambda: client.post(GET_BY_MOBILE, body), errcode)
        except AssertionError as e:
            raise AssertionError(f"{body}: {e}") from e
    eq(client.token_fetches, 1, "gettoken calls: errors are not token errors, nothing is retried")


def check_token_and_permission_errors(hostport):
    readonly = Counted(hostport, "dingdemoreadonly")
    e = client_error(lambda: readonly.post(GET_BY_MOBILE, {"mobile": MOBILE["zhangsan"]}), 88)
    eq(e.response.json().get("sub_code"), "60011", "sub_code without qyapi_get_member_by_mobile")
    stale = Counted(hostport, "dingdemointernal")
    stale.cache.access_token.set(value="0123456789abcdef0123456789abcdef", ttl=7200)
    e = client_error(lambda: stale.post(GET_BY_MOBILE, {"mobile": MOBILE["zhangsan"]}), 88)
    eq(e.response.json().get("sub_code"), "40014", "sub_code for an unknown token")
    eq(stale.token_fetches, 0, "gettoken calls (errcode 88 is not one the SDK retries)")
    bad = Counted(hostport, "dingdemointernal", secret="not-the-secret")
    client_error(lambda: bad.post(GET_BY_MOBILE, {"mobile": MOBILE["zhangsan"]}), 40096)


def check_user_get(hostport):
    client = Counted(hostport, "dingdemointernal")
    r = client.post("/topapi/v2/user/get", {"userid": "zhangsan", "language": "zh_CN"})
    eq(r["errcode"], 0, "errcode")
    u = r.result
    eq(u.userid, "zhangsan", "result.userid")
    eq(u.name, "张三", "result.name")
    eq(u.dept_id_list, [100, 101], "dept_id_list (numbers)")
    eq(u.leader_in_dept, [{"dept_id": 100, "leader": True}, {"dept_id": 101, "leader": False}], "leader_in_dept")
    eq(u.dept_order_list, [{"dept_id": 100, "order": 0}, {"dept_id": 101, "order": 1}], "dept_order_list")
    eq((u.admin, u.boss, u.active, u.real_authed), (True, False, True, True), "flags (booleans)")
    eq((u.title, u.job_number, u.hired_date), ("研发总监", "0001", 1577836800000), "HR fields")
    eq((u.mobile, u.state_code), ("15000009144", "86"), "mobile with the mobile permission")
    matches(UNIONID_RE, u.unionid, "unionid")
    lisi = client.post("/topapi/v2/user/get", {"userid": "lisi"}).result
    eq(lisi.manager_userid, "zhangsan", "manager")
    eq([(r["id"], r["name"], r["group_name"]) for r in lisi.role_list],
       [(4000000002, "项目经理", "职务"), (4000000001, "财务", "职务")], "role_list (64-bit ids as numbers)")
    # The unionId leads back to the userid.
    back = client.post("/topapi/user/getbyunionid", {"unionid": u.unionid})
    eq(back["result"], {"contact_type": 0, "userid": "zhangsan"}, "getbyunionid result")
    # An exclusive account by its login name; the userid is then ignored.
    ex = client.post("/topapi/v2/user/get", {"userid": "ignored", "login_id": "zhaoliu"}).result
    eq((ex.userid, ex.login_id, ex.exclusive_account), ("zhaoliu_ex", "zhaoliu", True), "by login_id")


def check_departments(hostport):
    client = Counted(hostport, "dingdemointernal")
    d = client.post("/topapi/v2/department/get", {"dept_id": 100}).result
    eq((d.dept_id, d.name, d.parent_id, d.dept_manager_userid_list), (100, "研发部", 1, ["zhangsan"]), "department")
    subs = client.post("/topapi/v2/department/listsub", {"dept_id": 1})["result"]
    eq([(x["dept_id"], x["name"]) for x in subs], [(100, "研发部"), (200, "市场部")], "listsub")
    eq(client.post("/topapi/v2/department/listsubid", {"dept_id": 100}).result.dept_id_list, [101, 102], "listsubid")
    path = client.post("/topapi/v2/department/listparentbydept", {"dept_id": 101}).result.parent_id_list
    eq(path, [101, 100, 1], "listparentbydept")
    paths = client.post("/topapi/v2/department/listparentbyuser", {"userid": "zhangsan"}).result.parent_list
    eq([p["parent_dept_id_list"] for p in paths], [[100, 1], [101, 100, 1]], "listparentbyuser")
    eq(client.post("/topapi/user/listid", {"dept_id": 101}).result.userid_list, ["zhangsan", "lisi"], "listid")


def check_member_pages(hostport):
    client = Counted(hostport, "dingdemointernal")
    seen, cursor = [], 0
    for _ in range(10):
        page = client.post("/topapi/user/listsimple", {"dept_id": 1, "cursor": cursor, "size": 1}).result
        seen += [m["userid"] for m in page["list"]]
        if not page["has_more"]:
            if "next_cursor" in page:
                raise AssertionError(f"next_cursor on the last page: {page}")
            break
        cursor = page["next_cursor"]
    eq(seen, ["sunqi", "zhaoliu_ex"], "listsimple pages of the root (one member a page)")
    page = client.post("/topapi/v2/user/list", {"dept_id": 101, "cursor": 0, "size": 10}).result
    eq([(m["userid"], m["dept_order"], m["leader"]) for m in page["list"]], [("zhangsan", 1, False), ("lisi", 2, False)], "v2 list")
    eq(client.post("/topapi/user/count", {"only_active": True}).result.count, 5, "count (departed wangwu is not)")
    admins = client.post("/topapi/user/listadmin", {})["result"]
    eq(admins, [{"sys_level": 2, "userid": "chanxm"}, {"sys_level": 1, "userid": "zhangsan"}], "listadmin")


def check_directory_errors(hostport):
    client = Counted(hostport, "dingdemointernal")
    for path, body, errcode in [
        ("/topapi/v2/user/get", {"userid": "wangwu"}, 60121),  # departed
        ("/topapi/v2/user/get", {"userid": "nobody"}, 60121),
        ("/topapi/v2/user/get", {}, 400002),
        ("/topapi/user/getbyunionid", {"unionid": "nosuchunionid0000000000"}, 60121),
        ("/topapi/v2/department/get", {"dept_id": 999}, 60003),
        ("/topapi/user/listid", {"dept_id": 999}, 60003),
        ("/topapi/v2/user/list", {"dept_id": 1, "cursor": 0, "size": 101}, 40035),
        ("/topapi/user/listsimple", {"dept_id": 1, "cursor": 0, "size": 101}, 40069),
        ("/topapi/user/listsimple", {"dept_id": 1, "cursor": -1, "size": 10}, 40068),
        ("/topapi/user/count", {}, 400002),
    ]:
        try:
            client_error(lambda: client.post(path, body), errcode)
        except AssertionError as e:
            raise AssertionError(f"{path} {body}: {e}") from e
    readonly = Counted(hostport, "dingdemoreadonly")
    e = client_error(lambda: readonly.post("/topapi/v2/user/get", {"userid": "zhangsan"}), 88)
    eq(e.response.json().get("sub_code"), "60011", "sub_code without qyapi_get_member")


def check_legacy_user_get(hostport, _dingdir):
    """`client.user.get`: the old flat `GET /user/get`, camelCase, no `result`."""
    client = Counted(hostport, "dingdemointernal")
    u = client.user.get("zhangsan")
    eq((u.userid, u.name, u.department, u.isAdmin, u.position, u.jobnumber), ("zhangsan", "张三", [100, 101], True, "研发总监", "0001"), "user.get")
    eq(u.openId, u.unionid, "openId equals unionid")
    eq((u.orderInDepts, u.isLeaderInDepts), ("{100:0,101:1}", "{100:true,101:false}"), "the bare-key map strings")
    eq(client.user.get("lisi").managerUserid, "zhangsan", "managerUserid")
    client_error(lambda: client.user.get("wangwu"), 60121)


def check_legacy_department_list(hostport, _dingdir):
    """`client.department.list`: `GET /department/list` with Python's `fetch_child=False/True`."""
    client = Counted(hostport, "dingdemointernal")
    top = client.department.list(1, fetch_child=False)
    eq([(d["id"], d.get("parentid")) for d in top], [(100, 1), (200, 1)], "department.list(1, fetch_child=False)")
    every = client.department.list(1, fetch_child=True)
    eq([d["id"] for d in every], [100, 101, 102, 200], "department.list(1, fetch_child=True), depth first")
    client_error(lambda: client.department.list(999), 60003)


def check_in_app_sign_in(hostport, dingdir):
    """`client.user.getuserinfo(code)`: the old in-app sign-in exchange, with a minted code."""
    client = Counted(hostport, "dingdemointernal")
    info = client.user.getuserinfo(dingdir.auth_code("dingdemointernal", "zhangsan"))
    eq((info.userid, info.name, info.is_sys, info.sys_level), ("zhangsan", "张三", True, 1), "user.getuserinfo")
    code = dingdir.auth_code("dingdemointernal", "lisi")
    eq(client.user.getuserinfo(code).userid, "lisi", "first use")
    client_error(lambda: client.user.getuserinfo(code), 40078)
    new = client.post("/topapi/v2/user/getuserinfo", {"code": dingdir.auth_code("dingdemointernal", "chanxm")}).result
    eq((new.userid, new.sys, new.sys_level), ("chanxm", True, 2), "topapi v2 getuserinfo")


RANGE_APP = """apps:
  - key: dingrangeapp
    name: Range App
    type: internal
    secret: range-secret
    corp: %s
    scopes: [qyapi_get_member, qyapi_get_department_member, qyapi_get_department_list]
    contact_range: [{ departments: [100], users: [chanxm] }]
""" % DEMO_CO


def check_contact_range_and_hidden_departments(hostport, dingdir):
    """An app whose range is 研发部 and chanxm (seeded here), and the demo's hidden 前端组."""
    dingdir.apply_seed(RANGE_APP)
    ranged = Counted(hostport, "dingrangeapp", "range-secret")
    eq(ranged.post("/topapi/v2/user/get", {"userid": "lisi"}).result.userid, "lisi", "in 研发部's subtree")
    eq(ranged.user.get("chanxm").userid, "chanxm", "listed by userid (user.get)")
    e = client_error(lambda: ranged.post("/topapi/v2/user/get", {"userid": "sunqi"}), 50002)
    eq(e.errmsg, "请求的员工userid不在授权范围内", "50002 errmsg")
    client_error(lambda: ranged.user.get("sunqi"), 50002)
    e = client_error(lambda: ranged.post("/topapi/v2/department/get", {"dept_id": 200}), 50004)
    eq(e.errmsg, "请求的部门id不在授权范围内", "50004 errmsg")
    client_error(lambda: ranged.department.list(1), 50004)
    eq([d["id"] for d in ranged.department.list(100, fetch_child=True)], [101, 102], "department.list inside the range")
    eq(ranged.post("/topapi/user/listid", {"dept_id": 200}).result.userid_list, ["chanxm"], "listid ignores the range")
    scopes = ranged.get("/auth/scopes")
    eq(scopes["auth_org_scopes"], {"authed_dept": [100], "authed_user": ["chanxm"]}, "/auth/scopes")
    internal = Counted(hostport, "dingdemointernal")
    d = internal.post("/topapi/v2/department/get", {"dept_id": 102}).result
    eq((d.hide_dept, d.dept_permits, d.user_permits), (True, [200], ["lisi"]), "hidden 前端组 and who may see it")


def check_scripted_faults(hostport, dingdir):
    """A rule makes the next two getbymobile calls answer -1 (系统繁忙) and the third succeed;
    a dropped connection and a cut-short answer reach the SDK as requests' own errors; the
    journal counts every one of those calls."""
    client = Counted(hostport, "dingdemointernal")
    client.access_token  # fetched before the rule, so only getbymobile is counted
    seq = dingdir.journal_seq()
    rule = dingdir.add_fault(
        {"endpoint": "V2UserGetByMobile", "action": {"kind": "errcode", "errcode": -1}, "fire": {"next": 2}}
    )
    try:
        for n in (1, 2):
            e = client_error(lambda: client.post(GET_BY_MOBILE, {"mobile": MOBILE["zhangsan"]}), -1)
            eq(e.errmsg, "系统繁忙", f"call {n}: errmsg")
        eq(client.post(GET_BY_MOBILE, {"mobile": MOBILE["zhangsan"]}).result.userid, "zhangsan", "call 3")
        [listed] = dingdir.faults()
        eq((listed["id"], listed["matched"], listed["fired"]), (rule["id"], 3, 2), "the rule's counters")
        dingdir.clear_faults()
        dingdir.add_fault({"endpoint": "V2UserGetByMobile", "action": {"kind": "drop"}, "fire": {"next": 1}})
        raises(lambda: client.post(GET_BY_MOBILE, {"mobile": MOBILE["zhangsan"]}), requests.exceptions.ConnectionError)
        dingdir.add_fault({"endpoint": "V2UserGetByMobile", "action": {"kind": "truncate"}, "fire": {"next": 1}})
        raises(lambda: client.post(GET_BY_MOBILE, {"mobile": MOBILE["zhangsan"]}), requests.exceptions.RequestException)
        eq(client.post(GET_BY_MOBILE, {"mobile": MOBILE["zhangsan"]}).result.userid, "zhangsan", "after both fired")
        eq(client.token_fetches, 1, "gettoken calls: a busy answer is not a token error")
        count = lambda **f: dingdir.journal_count(after=seq, endpoint="V2UserGetByMobile", **f)
        eq(count(), 6, "getbymobile calls in the journal")
        eq(count(code=-1), 2, "of them answered -1")
        eq(count(faulted=True), 4, "of them a fault fired on (-1, -1, drop, truncate)")
        eq(count(code=0, faulted=False), 2, "of them served whole")
    finally:
        dingdir.clear_faults()


def check_rate_limits(hostport, dingdir):
    """Per-minute limits of one call: the legacy `client.user.get` (`GET /user/get`) gets 90018
    as DingTalk's old paths send it; `/topapi/` getbymobile gets it inside the 88 wrapper. The
    SDK raises either and retries neither."""
    dingdir.advance_clock(60)  # a minute window of this check's own
    dingdir.admin("PUT", "/_dingdir/rate-limits", {"limits": [
        {"app": "dingdemointernal", "endpoint": "UserGet", "limit": 1, "per": "minute"},
        {"app": "dingdemointernal", "endpoint": "V2UserGetByMobile", "limit": 1},
    ]})
    try:
        client = Counted(hostport, "dingdemointernal")
        eq(client.user.get("zhangsan").userid, "zhangsan", "the first user.get")
        e = client_error(lambda: client.user.get("zhangsan"), 90006)
        eq(e.errmsg, "您当前使用的CorpId及CorpSecret调用当前接口次数过多，请求被暂时禁用了，仅对企业自己的Accesstoken有效", "90006 errmsg")
        dingdir.admin("PUT", "/_dingdir/rate-limits", {"limits": [
            {"app": "dingdemointernal", "endpoint": "UserGet", "limit": 1},
            {"app": "dingdemointernal", "endpoint": "V2UserGetByMobile", "limit": 1},
        ]})
        # Three calls in a row: at most two fall in two different seconds, so one is refused.
        e = client_error(lambda: [client.user.get("zhangsan") for _ in range(3)], 90018)
        if not e.errmsg.startswith("您的企业应用调用钉钉开放平台当前接口的所有请求都被暂时禁用了, apiPath(/user/get), 从 "):
            raise AssertionError(f"90018 errmsg {e.errmsg!r}")
        e = client_error(lambda: [client.post(GET_BY_MOBILE, {"mobile": MOBILE["zhangsan"]}) for _ in range(3)], 88)
        eq(e.response.json().get("sub_code"), "90018", "sub_code on /topapi/")
        eq(client.token_fetches, 1, "gettoken calls: a rate limit is not a token error")
    finally:
        dingdir.admin("DELETE", "/_dingdir/rate-limits")


CHECKS = [
    check_token_fetch_and_cache,
    check_getbymobile,
    check_getbymobile_errors,
    check_token_and_permission_errors,
    check_user_get,
    check_departments,
    check_member_pages,
    check_directory_errors,
]

# Checks that also need the admin API.
ADMIN_CHECKS = [
    check_legacy_user_get,
    check_legacy_department_list,
    check_in_app_sign_in,
    check_contact_range_and_hidden_departments,
    check_scripted_faults,
    check_rate_limits,
]


def main():
    hostport, admin_token, _ = parse_args("py_community.py HOST:PORT ADMIN_TOKEN")
    dingdir = Dingdir(hostport, admin_token)
    for dist in ("dingtalk-sdk", "requests"):
        print(f"{dist} {importlib.metadata.version(dist)}")
    checks = Checks("py_community")
    for check in CHECKS:
        checks.run(check.__name__, check, hostport)
    for check in ADMIN_CHECKS:
        checks.run(check.__name__, check, hostport, dingdir)
    checks.finish()


if __name__ == "__main__":
    main()
