#!/usr/bin/env python3
"""Referee: HTTP event callbacks and directory writes through the community Python SDK
`dingtalk-sdk` (007gzs, module `dingtalk`), unmodified.

Usage: py_callbacks.py HOST:PORT ADMIN_TOKEN   (a `dingdir dev` server started with a short
`--callback-backoff-ms`, so retries come within the checks' bounds)

The receivers are small HTTP servers on 127.0.0.1 whose every byte of crypto is the SDK's own
`dingtalk.crypto.DingTalkCrypto` (decrypt_message, encrypt_message), built as the SDK's
`AppKeyClient` builds it: with the corpId as the receiveid, which is what a callback registered
through `register_call_back` closes its messages with. The app registers with the SDK's
`client.callback.register_call_back`. It writes twice over: the v2 paths with the SDK's generic
`client.post` (its token injection and error handling), and the old 1.0 paths with the SDK's own
`client.user.*` and `client.department.*` methods, each read back through the SDK. Every wait is
bounded.
"""

import sys

sys.dont_write_bytecode = True  # keep tests/compat free of __pycache__

import http.server
import json
import threading
import time
import urllib.parse

from dingtalk import AppKeyClient
from dingtalk.core.exceptions import DingTalkClientException
from dingtalk.crypto import DingTalkCrypto

from compat_common import DEMO_CO, Checks, Dingdir, eq, parse_args, raises

APP_KEY = "dingcbwriter"
APP_SECRET = "cb-writer-secret"
TOKEN = "cbtoken42"
AES_KEY = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"  # DingTalk's own doc example key
TAGS = ["user_add_org", "user_modify_org", "user_leave_org", "org_admin_add", "org_admin_remove",
        "org_dept_create", "org_dept_modify", "org_dept_remove"]

WRITER_SEED = f"""apps:
  - key: {APP_KEY}
    name: Callback Writer
    type: internal
    secret: {APP_SECRET}
    corp: {DEMO_CO}
    scopes: [qyapi_get_member, qyapi_get_member_by_mobile, qyapi_get_department_list, qyapi_manage_addresslist]
"""


def admin_seed(admin):
    return f"""people:
  - id: cbadmin
    nick: cbadmin
    mobile: "13600000042"
    memberships:
      - corp: {DEMO_CO}
        userid: cbadmin
        name: Callback Admin
        admin: {"true" if admin else "false"}
"""


class Receiver:
    """An HTTP receiver built on the SDK's crypto. `answer` is the plaintext it replies with."""

    def __init__(self, answer="success"):
        self.crypto = DingTalkCrypto(TOKEN, AES_KEY, DEMO_CO)
        self.answer = answer
        self.events = []
        self.failures = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                try:
                    signature = q.get("msg_signature") or q["signature"]
                    timestamp = q.get("timeStamp") or q["timestamp"]
                    plain = receiver.crypto.decrypt_message(body, signature, timestamp, q["nonce"])
                    event = json.loads(plain)
                except Exception as e:  # noqa: BLE001 - recorded and checked by the driver
                    with receiver.lock:
                        receiver.failures.append(f"{type(e).__name__}: {e}")
                    self.send_response(400)
                    self.end_headers()
                    return
                with receiver.lock:
                    receiver.events.append(event)
                    answer = receiver.answer
                reply = json.dumps(receiver.crypto.encrypt_message(answer)).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dingtalk/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self):
        with self.lock:
            events, self.events = self.events, []
            if self.failures:
                raise AssertionError(f"the SDK's crypto refused pushes: {self.failures}")
        return events

    def wait(self, count, secs=15):
        """The next `count` events, waiting at most `secs`."""
        deadline = time.monotonic() + secs
        got = []
        while len(got) < count and time.monotonic() < deadline:
            got += self.take()
            time.sleep(0.05)
        got += self.take()
        if len(got) < count:
            raise AssertionError(f"expected {count} events within {secs} s, got {len(got)}: {got}")
        return got


def client(hostport):
    c = AppKeyClient(DEMO_CO, APP_KEY, APP_SECRET)
    c.API_BASE_URL = f"http://{hostport}/"  # root only: urljoin drops a path prefix
    return c


def summary(events):
    """(EventType, the ids) of each event, after checking the fields every event carries."""
    out = []
    for e in events:
        eq(e.get("CorpId"), DEMO_CO, f"CorpId of {e}")
        if not isinstance(e.get("TimeStamp"), str) or not e["TimeStamp"].isdigit():
            raise AssertionError(f"TimeStamp is not a string of milliseconds in {e}")
        ids = e.get("UserId", e.get("DeptId"))
        out.append((e["EventType"], ids))
    return out


def check_register_call_back(hostport, good):
    c = client(hostport)
    r = c.callback.register_call_back(TAGS, TOKEN, AES_KEY, good.url)
    eq(r["errcode"], 0, "register_call_back errcode")
    eq(good.wait(1), [{"EventType": "check_url"}], "what the receiver got on registration")
    got = c.callback.get_call_back()
    eq(got["url"], good.url, "get_call_back url")
    eq(got["aes_key"], AES_KEY, "get_call_back aes_key")
    eq(list(got["call_back_tag"]), TAGS, "get_call_back call_back_tag")
    e = raises(lambda: c.callback.register_call_back(TAGS, TOKEN, AES_KEY, good.url), DingTalkClientException)
    eq(e.errcode, 71006, "registering twice")


def check_every_write_arrives_as_its_event(hostport, dingdir, good):
    c = client(hostport)
    r = c.post("/topapi/v2/user/create", {"userid": "cbnew", "name": "CB New", "mobile": "13600000041",
                                          "dept_id_list": "100"})
    eq(r["result"]["userid"], "cbnew", "user/create result.userid")
    eq(c.post("/topapi/v2/user/get", {"userid": "cbnew"})["result"]["name"], "CB New", "read after create")
    c.post("/topapi/v2/user/update", {"userid": "cbnew", "name": "CB Renamed"})
    eq(c.post("/topapi/v2/user/get", {"userid": "cbnew"})["result"]["name"], "CB Renamed", "read after update")
    dept = c.post("/topapi/v2/department/create", {"name": "CB Dept", "parent_id": 1})["result"]["dept_id"]
    c.post("/topapi/v2/department/update", {"dept_id": dept, "name": "CB Dept 2"})
    eq(c.post("/topapi/v2/department/get", {"dept_id": dept})["result"]["name"], "CB Dept 2", "read after update")
    c.post("/topapi/v2/department/delete", {"dept_id": dept})
    e = raises(lambda: c.post("/topapi/v2/department/get", {"dept_id": dept}), DingTalkClientException)
    eq(e.errcode, 60003, "a deleted department")
    c.post("/topapi/v2/user/delete", {"userid": "cbnew"})
    e = raises(lambda: c.post("/topapi/v2/user/getbymobile", {"mobile": "13600000041"}), DingTalkClientException)
    eq(e.errcode, 60121, "getbymobile right after the departure")
    # The administrator events come from seeds, the way the console's changes reach dingdir.
    dingdir.apply_seed(admin_seed(True))
    dingdir.apply_seed(admin_seed(False))
    eq(summary(good.wait(9)), [
        ("user_add_org", ["cbnew"]),
        ("user_modify_org", ["cbnew"]),
        ("org_dept_create", [dept]),
        ("org_dept_modify", [dept]),
        ("org_dept_remove", [dept]),
        ("user_leave_org", ["cbnew"]),
        ("user_add_org", ["cbadmin"]),
        ("org_admin_add", ["cbadmin"]),
        ("org_admin_remove", ["cbadmin"]),
    ], "the events, in the order of the writes")
    time.sleep(0.5)
    eq(good.take(), [], "nothing is sent twice once acknowledged")


def check_the_sdks_own_write_methods(hostport, good):
    """client.user.* and client.department.*: the old 1.0 paths, each read back through the SDK."""
    c = client(hostport)
    dept = c.department.create({"name": "SDK Dept", "parentid": "1", "order": "3"})
    if not isinstance(dept, int):
        raise AssertionError(f"department.create returned {dept!r}, not the new id")
    eq(c.department.update({"id": dept, "name": "SDK Dept 2"}), dept, "department.update returns the id")
    listed = {d["id"]: d for d in c.department.list(1, fetch_child=True)}
    eq(listed.get(dept, {}).get("name"), "SDK Dept 2", "department.list after the update")
    userid = c.user.create({"userid": "sdkuser", "name": "SDK User", "mobile": "13600000052",
                            "department": [dept], "position": "Tester"})
    eq(userid, "sdkuser", "user.create returns the userid")
    got = c.user.get("sdkuser")
    eq((got["name"], got["position"], got["department"]), ("SDK User", "Tester", [dept]), "user.get after create")
    c.user.update({"userid": "sdkuser", "name": "SDK Renamed"})
    eq(c.user.get("sdkuser")["name"], "SDK Renamed", "user.get after update")
    second = c.user.create({"name": "SDK Second", "mobile": "13600000053", "department": [dept]})
    third = c.user.create({"name": "SDK Third", "mobile": "13600000054", "department": [dept]})
    for made in (second, third):
        if not isinstance(made, str) or not made:
            raise AssertionError(f"user.create without a userid returned {made!r}")
    e = raises(lambda: c.user.create({"userid": "sdkuser", "name": "Again", "mobile": "13600000055",
                                      "department": [dept]}), DingTalkClientException)
    eq(e.errcode, 60102, "user.create with a taken userid")
    eq(c.user.delete("sdkuser")["errcode"], 0, "user.delete")
    e = raises(lambda: c.user.get("sdkuser"), DingTalkClientException)
    eq(e.errcode, 60121, "user.get right after the delete")
    eq(c.user.batchdelete([second, third])["errcode"], 0, "user.batchdelete")
    for gone in (second, third):
        e = raises(lambda: c.user.get(gone), DingTalkClientException)
        eq(e.errcode, 60121, f"user.get of {gone} after the batch delete")
    e = raises(lambda: c.user.batchdelete([]), DingTalkClientException)
    eq(e.errcode, 40032, "user.batchdelete of nobody")
    eq(c.department.delete(dept)["errcode"], 0, "department.delete")
    eq(dept in {d["id"] for d in c.department.list(1, fetch_child=True)}, False, "department.list after the delete")
    eq(summary(good.wait(10)), [
        ("org_dept_create", [dept]),
        ("org_dept_modify", [dept]),
        ("user_add_org", ["sdkuser"]),
        ("user_modify_org", ["sdkuser"]),
        ("user_add_org", [second]),
        ("user_add_org", [third]),
        ("user_leave_org", ["sdkuser"]),
        ("user_leave_org", [second]),
        ("user_leave_org", [third]),
        ("org_dept_remove", [dept]),
    ], "the old paths' events, in the order of the writes")


def check_a_wrong_answer_is_refused_and_retried(hostport, dingdir, good):
    wrong = Receiver(answer="fail")
    c = client(hostport)
    e = raises(lambda: c.callback.update_call_back(TAGS, TOKEN, AES_KEY, wrong.url), DingTalkClientException)
    eq(e.errcode, 71009, "update_call_back to a receiver that answers 'fail'")
    eq(wrong.wait(1), [{"EventType": "check_url"}], "the check the wrong receiver got")
    eq(c.callback.get_call_back()["url"], good.url, "the registration is unchanged")

    # Registered without the check, the wrong receiver sees DingTalk's retries.
    dingdir.admin("PUT", f"/_dingdir/callbacks/{APP_KEY}", {
        "url": wrong.url, "token": TOKEN, "aes_key": AES_KEY, "events": TAGS, "receive_id": "corp_id",
        "check_url": False})
    after = dingdir.admin("GET", "/_dingdir/callbacks")["callbacks"][0]["delivered_seq"]
    c.post("/topapi/v2/department/create", {"name": "CB Retry", "parent_id": 1})
    tries = wrong.wait(3)
    eq({e["EventType"] for e in tries}, {"org_dept_create"}, "the same event, again and again")
    listed = dingdir.admin("GET", f"/_dingdir/events?after={after}&type=org_dept_create")["events"]
    delivery = listed[0]["deliveries"][0]
    eq(delivery["state"], "retrying", "its delivery state")
    if delivery["attempts"] < 3 or "71009" not in delivery.get("last_error", ""):
        raise AssertionError(f"attempts and error of {delivery}")
    wrong.answer = "success"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listed = dingdir.admin("GET", f"/_dingdir/events?after={after}&type=org_dept_create")["events"]
        if listed[0]["deliveries"][0]["state"] == "delivered":
            break
        time.sleep(0.1)
    eq(listed[0]["deliveries"][0]["state"], "delivered", "once the receiver answers success")
    eq(c.callback.delete_call_back()["errcode"], 0, "delete_call_back")
    e = raises(lambda: c.callback.get_call_back(), DingTalkClientException)
    eq(e.errcode, 71007, "get_call_back after the delete")


def main():
    hostport, admin_token, _ = parse_args("py_callbacks.py HOST:PORT ADMIN_TOKEN")
    dingdir = Dingdir(hostport, admin_token)
    dingdir.apply_seed(WRITER_SEED)
    good = Receiver()
    checks = Checks("py_callbacks.py")
    checks.run("check_register_call_back", check_register_call_back, hostport, good)
    checks.run("check_every_write_arrives_as_its_event", check_every_write_arrives_as_its_event, hostport,
               dingdir, good)
    checks.run("check_the_sdks_own_write_methods", check_the_sdks_own_write_methods, hostport, good)
    checks.run("check_a_wrong_answer_is_refused_and_retried", check_a_wrong_answer_is_refused_and_retried,
               hostport, dingdir, good)
    checks.finish()


if __name__ == "__main__":
    main()
