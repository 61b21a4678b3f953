#!/usr/bin/env python3
"""Referee: Stream mode through the official Python SDK `dingtalk-stream`, unmodified, pointed at
dingdir only by its documented `DINGTALK_OPENAPI_ENDPOINT`.

Usage: py_stream.py HOST:PORT ADMIN_TOKEN   (a `dingdir dev` server started with short Stream
timings: `--stream-ack-timeout-ms 1000 --stream-later-ms 300 --stream-ping-ms 500`)

    py_stream.py HOST:PORT ADMIN_TOKEN --receive-only N EXPECT_FILE
        Connects, receives events, and appends each delivery's eventId and userId as a JSON
        line to EXPECT_FILE, repeats included, for up to N deliveries or 300 s, then idles until
        killed (the two-node test writes through another node and restarts this one).

The SDK's client runs in its own thread with its own event loop, exactly as `start_forever` runs
it. The handler records every delivery it sees (event type, ids, headers) and answers as the
checks tell it: OK, an error code, or an exception (which the SDK turns into no ack at all).
The directory is written through the legacy gateway's v2 paths with an app that may write, and
the administrator events come from seeds. Every wait is bounded.
"""

import sys

sys.dont_write_bytecode = True  # keep tests/compat free of __pycache__

import json
import os
import re
import threading
import time

from compat_common import DEMO_CO, Checks, Dingdir, eq, http_json, ne, parse_args

HOSTPORT, ADMIN, REST = parse_args(__doc__.split("\n\n")[1].strip())
# The SDK reads its gateway at import: this is the only thing that points it at dingdir.
os.environ["DINGTALK_OPENAPI_ENDPOINT"] = f"http://{HOSTPORT}"

import dingtalk_stream  # noqa: E402 - must follow the endpoint
from dingtalk_stream import AckMessage  # noqa: E402

APP_KEY, APP_SECRET = "dingdemointernal", "demo-internal-secret"
WRITER, WRITER_SECRET = "dingstreamwriter", "stream-writer-secret"
HEX32 = re.compile(r"^[0-9a-f]{32}$")

WRITER_SEED = f"""apps:
  - key: {WRITER}
    name: Stream Writer
    type: internal
    secret: {WRITER_SECRET}
    corp: {DEMO_CO}
    scopes: [qyapi_get_member, qyapi_get_department_list, qyapi_manage_addresslist]
"""


def admin_seed(userid, admin):
    return f"""people:
  - id: {userid}
    nick: {userid}
    mobile: "1360000{abs(hash(userid)) % 10000:04d}"
    memberships:
      - corp: {DEMO_CO}
        userid: {userid}
        name: Stream Admin
        admin: {"true" if admin else "false"}
"""


class Recorder(dingtalk_stream.EventHandler):
    """Records each delivery; `plan[userid]` lists how to answer its first deliveries."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.seen = []
        self.plan = {}

    async def process(self, event):
        ids = event.data.get("userId") or event.data.get("deptId") or []
        key = str(ids[0]) if ids else ""
        with self.lock:
            self.seen.append({
                "type": event.headers.event_type, "ids": ids, "corp": event.headers.event_corp_id,
                "event_id": event.headers.event_id, "message_id": event.headers.message_id,
                "born": event.headers.event_born_time, "data": event.data,
            })
            steps = self.plan.get(key) or []
            step = steps.pop(0) if steps else "ok"
        if step == "raise":
            raise RuntimeError("the handler failed")  # the SDK sends no ack at all
        if step == "500":
            return AckMessage.STATUS_SYSTEM_EXCEPTION, "busy"
        return AckMessage.STATUS_OK, "OK"

    def wait(self, pred, what, secs=20):
        deadline = time.monotonic() + secs
        while time.monotonic() < deadline:
            with self.lock:
                got = [s for s in self.seen if pred(s)]
            if got:
                return got
            time.sleep(0.05)
        with self.lock:
            raise AssertionError(f"no delivery of {what} within {secs} s; seen: {[(s['type'], s['ids']) for s in self.seen]}")

    def of(self, userid):
        with self.lock:
            return [s for s in self.seen if [str(i) for i in s["ids"]] == [userid]]


class Writer:
    """Writes the directory through the legacy gateway as an app that may."""

    def __init__(self, dingdir):
        dingdir.apply_seed(WRITER_SEED)
        status, body = http_json("GET", f"{dingdir.base}/gettoken?appkey={WRITER}&appsecret={WRITER_SECRET}")
        eq(status, 200, "gettoken status")
        self.base, self.token = dingdir.base, body["access_token"]
        self.mobiles = 0

    def post(self, path, body):
        status, answer = http_json("POST", f"{self.base}{path}?access_token={self.token}", body)
        if status != 200 or answer.get("errcode") != 0:
            raise AssertionError(f"{path} answered {status} {answer}")
        return answer

    def create(self, userid):
        self.mobiles += 1
        self.post("/topapi/v2/user/create", {"userid": userid, "name": userid,
                                             "mobile": f"1371{os.getpid() % 1000:03d}{self.mobiles:04d}",
                                             "dept_id_list": "1"})


def connections(dingdir):
    return dingdir.admin("GET", f"/_dingdir/stream/connections?app_key={APP_KEY}")["connections"]


def wait_connections(dingdir, pred, what, secs=20):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        conns = connections(dingdir)
        if pred(conns):
            return conns
        time.sleep(0.05)
    raise AssertionError(f"{what} within {secs} s; connections: {connections(dingdir)}")


def attempts(dingdir):
    return dingdir.admin("GET", f"/_dingdir/stream/attempts?app_key={APP_KEY}")


def start_client(recorder):
    client = dingtalk_stream.DingTalkStreamClient(dingtalk_stream.Credential(APP_KEY, APP_SECRET))
    client.register_all_event_handler(recorder)
    threading.Thread(target=client.start_forever, daemon=True).start()
    return client


def check_it_connects_and_answers_pings(dingdir):
    conns = wait_connections(dingdir, lambda c: len(c) == 1, "one connection")
    c = conns[0]
    eq(c["subscriptions"], [{"type": "EVENT", "topic": "*"}], "what the SDK subscribed to")
    if not c["ua"].startswith("dingtalk-sdk-python/v"):
        raise AssertionError(f"ua {c['ua']!r} is not the SDK's")
    wait_connections(dingdir, lambda cs: cs and cs[0]["pings_answered"] >= 2, "two SYSTEM pings answered")


def check_every_contact_event_type(dingdir, writer, rec):
    w = writer
    w.create("strm_u1")
    w.post("/topapi/v2/user/update", {"userid": "strm_u1", "name": "Renamed"})
    dept = w.post("/topapi/v2/department/create", {"name": "Stream Dept", "parent_id": 1})["result"]["dept_id"]
    w.post("/topapi/v2/department/update", {"dept_id": dept, "name": "Stream Dept 2"})
    w.post("/topapi/v2/department/delete", {"dept_id": dept})
    w.post("/topapi/v2/user/delete", {"userid": "strm_u1"})
    dingdir.apply_seed(admin_seed("strm_adm", True))
    dingdir.apply_seed(admin_seed("strm_adm", False))
    want = [("user_add_org", ["strm_u1"]), ("user_modify_org", ["strm_u1"]), ("org_dept_create", [dept]),
            ("org_dept_modify", [dept]), ("org_dept_remove", [dept]), ("user_leave_org", ["strm_u1"]),
            ("user_add_org", ["strm_adm"]), ("org_admin_add", ["strm_adm"]), ("org_admin_remove", ["strm_adm"])]
    rec.wait(lambda s: s["type"] == "org_admin_remove", "org_admin_remove")
    with rec.lock:
        got = [s for s in rec.seen if s["ids"] in ([dept], ["strm_u1"], ["strm_adm"])]
    eq([(s["type"], s["ids"]) for s in got], want, "the events, once each, in the order of the writes")
    for s in got:
        eq(s["corp"], DEMO_CO, "eventCorpId")
        # The body each event's page documents for Stream mode: no EventType or CorpId in it.
        if s["type"].startswith("org_dept_"):
            eq(s["data"], {"deptId": [dept]}, f"data of {s['type']}")
        else:
            eq(sorted(s["data"]), ["timeStamp", "userId"], f"data keys of {s['type']}")
            eq(s["data"]["timeStamp"], str(s["born"]), "data.timeStamp is eventBornTime, as a string")
        if not HEX32.match(s["event_id"] or "") or not HEX32.match(s["message_id"] or ""):
            raise AssertionError(f"eventId/messageId are not 32 hex: {s}")
        if not isinstance(s["born"], int) or s["born"] <= 0:
            raise AssertionError(f"eventBornTime is not milliseconds: {s['born']!r}")
    ids = [s["event_id"] for s in got]
    eq(len(set(ids)), len(ids), "each event has its own eventId")
    a = attempts(dingdir)
    eq(a["failures"], 0, "no failure pending")
    for s in got:
        pushes = [x for x in a["attempts"] if x["event_id"] == s["event_id"]]
        eq([x.get("error") for x in pushes], [None], f"one acknowledged push of {s['type']}")


def check_an_event_it_did_not_acknowledge_comes_again(writer, rec):
    # The handler raises on the first delivery (the SDK then sends no ack) and answers 500 on the
    # second; the third is acknowledged.
    rec.plan["strm_retry"] = ["raise", "500"]
    writer.create("strm_retry")
    deadline = time.monotonic() + 20
    while len(rec.of("strm_retry")) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    got = rec.of("strm_retry")
    eq(len(got), 3, "deliveries of an event until it is acknowledged")
    eq(len({s["event_id"] for s in got}), 1, "the same eventId each time")
    eq(len({s["message_id"] for s in got}), 3, "a new messageId each time")
    time.sleep(1.5)
    eq(len(rec.of("strm_retry")), 3, "nothing after the acknowledgement")


def check_disconnect_notice_then_reconnect(dingdir, writer, rec):
    before = {c["id"] for c in connections(dingdir)}
    told = dingdir.admin("POST", "/_dingdir/stream/close", {"app_key": APP_KEY, "notice": "rebalancing"})
    eq(told["cleared"], 1, "connections told")
    writer.create("strm_during_disconnect")
    conns = wait_connections(dingdir, lambda cs: len(cs) == 1 and cs[0]["id"] not in before, "a new connection")
    ne(conns[0]["id"], next(iter(before)), "connection id")
    rec.wait(lambda s: s["ids"] == ["strm_during_disconnect"], "the event written across the reconnect")


def check_zombie_then_reconnect_and_what_it_missed(dingdir, writer, rec):
    zombie = connections(dingdir)[0]["id"]
    z = dingdir.admin("POST", f"/_dingdir/stream/connections/{zombie}/zombie", {"for_ms": 2500})
    eq(z["zombie"], True, "zombie flag")
    writer.create("strm_missed1")
    writer.create("strm_missed2")
    time.sleep(1.0)
    eq(rec.of("strm_missed1"), [], "nothing arrives on a zombie")
    wait_connections(dingdir, lambda cs: len(cs) == 1 and cs[0]["id"] != zombie, "a connection after the zombie's")
    rec.wait(lambda s: s["ids"] == ["strm_missed2"], "the second event missed during the zombie period")
    eq([s["ids"] for s in rec.seen if s["ids"] in (["strm_missed1"], ["strm_missed2"])],
       [["strm_missed1"], ["strm_missed2"]], "both missed events, in order, once each")
    pushes = [x for x in attempts(dingdir)["attempts"] if x["event_id"] == rec.of("strm_missed1")[0]["event_id"]]
    errors = [x.get("error") for x in pushes]
    eq(errors[-1], None, "the last push of the first missed event succeeded")
    if not any(e and ("no acknowledgement" in e or "closed before" in e) for e in errors[:-1]):
        raise AssertionError(f"the push to the zombie is not in the attempts: {errors}")


def receive_only(n, path):
    rec = Recorder()
    start_client(rec)
    deadline = time.monotonic() + 300
    done = 0
    with open(path, "a", encoding="utf-8") as out:
        while time.monotonic() < deadline and done < n:
            with rec.lock:
                seen = rec.seen[done:]
            for s in seen:  # every delivery, repeats included
                out.write(json.dumps({"event_id": s["event_id"], "ids": s["ids"], "type": s["type"]}) + "\n")
                out.flush()
            done += len(seen)
            time.sleep(0.05)
    # Stay connected until killed: the test decides when the receiver stops.
    while True:
        time.sleep(1)


def main():
    if REST[:1] == ["--receive-only"]:
        receive_only(int(REST[1]), REST[2])
        return
    dingdir = Dingdir(HOSTPORT, ADMIN)
    writer = Writer(dingdir)
    rec = Recorder()
    start_client(rec)
    checks = Checks("py_stream.py")
    checks.run("the SDK connects and answers the server's pings", check_it_connects_and_answers_pings, dingdir)
    checks.run("every contact event type arrives once, in order, with Stream headers",
               check_every_contact_event_type, dingdir, writer, rec)
    checks.run("an event the SDK did not acknowledge comes again until it does",
               check_an_event_it_did_not_acknowledge_comes_again, writer, rec)
    checks.run("after a disconnect notice the SDK reconnects and gets what was written meanwhile",
               check_disconnect_notice_then_reconnect, dingdir, writer, rec)
    checks.run("after a zombie period the SDK reconnects and gets what it missed",
               check_zombie_then_reconnect_and_what_it_missed, dingdir, writer, rec)
    checks.finish()


main()
