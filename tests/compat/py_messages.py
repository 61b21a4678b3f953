#!/usr/bin/env python3
"""Referee: an app's messages to people, through two real clients, unmodified, pointed at dingdir
only by their documented settings (docs/wire/messages.md).

Usage: py_messages.py HOST:PORT ADMIN_TOKEN   (a `dingdir dev` server with the demo directory)

The official `alibabacloud-dingtalk` (robot_1_0, with the endpoint and protocol of its Config, as
py_official.py sets them) sends as the demo app's robot: one to one (batchSend), into the demo
group 研发群 (groupMessages/send), reads who read it (readStatus) and recalls it (batchRecall).
Its refusals are asserted through the SDK's own TeaException (`e.code`, `e.statusCode`, `e.data`).

The community `dingtalk-sdk` (007gzs, module `dingtalk`, `API_BASE_URL` pointed at dingdir) sends
work notifications and uploads media. Its `client.message.asyncsend_v2`, `getsendprogress`,
`getsendresult` and `recall` go to the TOP router at eco.taobao.com, ignoring `API_BASE_URL`
(docs/wire/messages.md §B6), and dingdir does not serve that router; so these checks call
`client.post('/topapi/message/corpconversation/…', {...})`, which honours `API_BASE_URL` and goes
through the same token injection and error handling. `client.message.media_upload` POSTs the
multipart `/media/upload?type=` itself. Its refusals are asserted through `DingTalkClientException`.

What a person got is read back from the inbox (`GET /_dingdir/inbox`, by `person`, `task` or
`conversation`); a person reads it with `POST /_dingdir/inbox/read`.
"""

import sys

sys.dont_write_bytecode = True  # keep tests/compat free of __pycache__

import importlib.metadata
import json
import os
import struct
import tempfile
import urllib.parse
import zlib

from alibabacloud_dingtalk.oauth2_1_0 import client as oauth_client
from alibabacloud_dingtalk.oauth2_1_0 import models as oauth_models
from alibabacloud_dingtalk.robot_1_0 import client as robot_client
from alibabacloud_dingtalk.robot_1_0 import models as robot_models
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_util import models as util_models
from dingtalk import AppKeyClient
from dingtalk.core.exceptions import DingTalkClientException
from Tea.exceptions import TeaException

from compat_common import DEMO_CO, REQUEST_ID_RE, SECRETS, Checks, Dingdir, eq, matches, ne, parse_args, raises

APP = "dingdemointernal"
AGENT_ID = 3000000001
GROUP = "研发群"
NOTICE = "/topapi/message/corpconversation/"
TEXT = {"content": "今晚 22:00 发版"}
MARKDOWN = {"title": "日报", "text": "#### 日报\n- 完成 [详情](https://ci.example/7)"}
NOTICE_TEXT = {"msgtype": "text", "text": {"content": "请在周五前提交周报"}}


class Env:
    """The server, both SDKs' clients pointed at it, and what one check leaves for the next."""

    def __init__(self, dd):
        self.dd = dd
        config = open_api_models.Config(protocol="http", region_id="central", endpoint=dd.hostport)
        self.oauth = oauth_client.Client(config)
        self.robot = robot_client.Client(config)
        self.token = self.app_token(APP)
        self.community = AppKeyClient(DEMO_CO, APP, SECRETS[APP])
        self.community.API_BASE_URL = f"http://{dd.hostport}/"  # root only: urljoin drops a path prefix
        self.keys = {}  # processQueryKeys by what they sent
        self.tasks = {}  # work notification task ids by what they sent
        self.media_id = None

    def app_token(self, app_key):
        req = oauth_models.GetAccessTokenRequest(app_key=app_key, app_secret=SECRETS[app_key])
        return self.oauth.get_access_token(req).body.access_token

    def call(self, method, request, token=None):
        """A robot_1_0 `…with_options` method with the app token in its headers. The SDK names
        some without the underscore (`batch_send_otowith_options`), so the name is given whole."""
        headers_cls = getattr(robot_models, type(request).__name__.replace("Request", "Headers"))
        headers = headers_cls(x_acs_dingtalk_access_token=token or self.token)
        return getattr(self.robot, method)(request, headers, util_models.RuntimeOptions())

    def send_oto(self, msg_key, param, users=("zhangsan", "lisi", "nobody"), robot_code=APP, token=None):
        req = robot_models.BatchSendOTORequest(robot_code=robot_code, user_ids=list(users), msg_key=msg_key,
                                               msg_param=json.dumps(param, ensure_ascii=False))
        return self.call("batch_send_otowith_options", req, token)

    def read_status(self, key):
        req = robot_models.BatchOTOQueryRequest(robot_code=APP, process_query_key=key)
        return self.call("batch_otoquery_with_options", req)

    def group(self, name):
        groups = [g for g in self.dd.admin("GET", "/_dingdir/groups")["groups"]
                  if g["corp_id"] == DEMO_CO and g["name"] == name]
        eq(len(groups), 1, f"groups named {name} in Demo Co")
        return groups[0]

    def notice(self, name, body):
        """A work notification call through the community SDK's `client.post`."""
        return self.community.post(NOTICE + name, body)


def inbox(dd, **query):
    q = urllib.parse.urlencode({**query, "limit": 1000})
    return dd.admin("GET", f"/_dingdir/inbox?{q}")["messages"]


def api_error(fn, code, status):
    """The official SDK raised a TeaException carrying the gateway's error body; returns it."""
    e = raises(fn, TeaException)
    eq(e.code, code, "e.code")
    eq(e.statusCode, status, "e.statusCode")
    eq(e.data.get("code"), code, "e.data['code']")
    matches(REQUEST_ID_RE, e.data.get("requestid"), "e.data['requestid']")
    return e


def client_error(fn, errcode):
    """The community SDK raised a DingTalkClientException with this errcode; returns it."""
    e = raises(fn, DingTalkClientException)
    eq(e.errcode, errcode, "e.errcode")
    eq(e.response.status_code, 200, "HTTP status (the legacy gateway always answers 200)")
    return e


def tiny_png():
    """A valid 1x1 PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


# ---------------------------------------------------------------- robot_1_0 (official SDK)


def check_batch_send_oto(env):
    for name, msg_key, param in [("text", "sampleText", TEXT), ("markdown", "sampleMarkdown", MARKDOWN)]:
        r = env.send_oto(msg_key, param)
        eq(r.status_code, 200, "status_code")
        key = r.body.process_query_key
        if not isinstance(key, str) or not key:
            raise AssertionError(f"processQueryKey {key!r}")
        eq(r.body.invalid_staff_id_list, ["nobody"], "invalidStaffIdList")
        eq(r.body.flow_controlled_staff_id_list, [], "flowControlledStaffIdList")
        env.keys[name] = key
        got = inbox(env.dd, person="zhangsan", task=key)
        eq(len(got), 1, "zhangsan's messages of this send")
        m = got[0]
        eq((m["msgtype"], m["content"]), (msg_key, param), "msgtype and content, as the template was sent")
        eq((m["conversation"], m["sender_kind"], m["sender_id"], m["corp_id"], m["task"]),
           (f"single:{APP}:zhangsan", "app_robot", APP, DEMO_CO, key), "zhangsan's chat with the robot")
        eq([x["person"] for x in inbox(env.dd, task=key)], ["zhangsan", "lisi"], "whom the send reached")
    ne(env.keys["text"], env.keys["markdown"], "two sends' processQueryKeys")


def check_read_status(env):
    def status(key):
        body = env.read_status(key).body
        return body.send_status, [(i.name, i.user_id, i.read_status) for i in body.message_read_info_list]

    key = env.keys["text"]
    eq(status(key), ("SUCCESS", [("张三", "zhangsan", "UNREAD"), ("李四", "lisi", "UNREAD")]), "before reading")
    eq(env.dd.admin("POST", "/_dingdir/inbox/read", {"person": "zhangsan"}), {"marked": 2},
       "zhangsan reads his two messages")
    eq(status(key), ("SUCCESS", [("张三", "zhangsan", "READ"), ("李四", "lisi", "UNREAD")]), "after zhangsan read")
    eq(status(env.keys["markdown"])[1][0][2], "READ", "zhangsan read the markdown too")
    api_error(lambda: env.read_status("bm90LWEta2V5"), "invalid.processQueryKey", 400)


def check_org_group_send(env):
    group = env.group(GROUP)
    cid = group["conversation_id"]
    if not cid.startswith("cid"):
        raise AssertionError(f"openConversationId {cid!r}")
    eq(group["bots"], [APP], "the robots in the group")
    req = robot_models.OrgGroupSendRequest(robot_code=APP, open_conversation_id=cid, msg_key="sampleMarkdown",
                                           msg_param=json.dumps(MARKDOWN, ensure_ascii=False))
    r = env.call("org_group_send_with_options", req)
    eq(r.status_code, 200, "status_code")
    key = r.body.process_query_key
    if not isinstance(key, str) or not key:
        raise AssertionError(f"processQueryKey {key!r}")
    env.keys["group"] = key
    got = inbox(env.dd, conversation=GROUP)
    eq([(m["sender_kind"], m["sender_id"], m["msgtype"], m["task"]) for m in got],
       [("app_robot", APP, "sampleMarkdown", key)], "the group's inbox")
    eq(got[0]["content"], MARKDOWN, "the markdown, as sent")
    eq("person" in got[0], False, "a group message has no person")
    # A group send's key is not a one-to-one send's.
    api_error(lambda: env.read_status(key), "invalid.processQueryKey", 400)


def check_batch_recall_oto(env):
    key = env.keys["text"]
    req = robot_models.BatchRecallOTORequest(robot_code=APP, process_query_keys=[key, env.keys["group"]])
    r = env.call("batch_recall_otowith_options", req)
    eq(r.status_code, 200, "status_code")
    eq(r.body.success_result, [key], "successResult")
    eq(r.body.failed_result, {env.keys["group"]: "PROCESS_QUERY_KEY_NOT_FOUND"},
       "failedResult: a group send is not recalled as one to one")
    body = env.read_status(key).body
    eq(body.send_status, "RECALLED", "sendStatus after the recall")
    got = inbox(env.dd, task=key)
    eq([(m["person"], isinstance(m.get("recalled_at"), int)) for m in got], [("zhangsan", True), ("lisi", True)],
       "the recalled entries")
    eq(env.read_status(env.keys["markdown"]).body.send_status, "SUCCESS", "the other send is untouched")
    eq("recalled_at" in inbox(env.dd, conversation=GROUP)[0], False, "the group message is untouched")


def check_robot_refusals(env):
    before = len(inbox(env.dd, sender_id=APP))
    e = api_error(lambda: env.send_oto("sampleMarkdoswn", MARKDOWN), "invalidParameter.msgKey.invalid", 400)
    if not e.data.get("message", "").startswith("错误描述: 不支持类型 sampleMarkdoswn ;"):
        raise AssertionError(f"message {e.data.get('message')!r}")
    api_error(lambda: env.send_oto("sampleMarkdown", {"text": "无标题"}), "miss.param.markdownTotitle", 400)
    api_error(lambda: env.send_oto("sampleText", TEXT, robot_code="dingnosuchrobot"), "resource.not.found", 400)
    api_error(lambda: env.send_oto("sampleText", TEXT, robot_code="dingdemoreadonly"),
              "invalidParameter.robotCode.auth", 400)
    req = robot_models.OrgGroupSendRequest(robot_code=APP, open_conversation_id="cidNoSuchGroup000000000000==",
                                           msg_key="sampleText", msg_param=json.dumps(TEXT))
    api_error(lambda: env.call("org_group_send_with_options", req), "invalid.openConversationId", 400)
    readonly = env.app_token("dingdemoreadonly")
    e = api_error(lambda: env.send_oto("sampleText", TEXT, robot_code="dingdemoreadonly", token=readonly),
                  "Forbidden.AccessDenied.AccessTokenPermissionDenied", 403)
    eq(e.data.get("accessdenieddetail"), {"requiredScopes": ["qyapi_robot_sendmsg"]}, "accessdenieddetail")
    eq(len(inbox(env.dd, sender_id=APP)), before, "nothing refused lands in the inbox")


# ---------------------------------------------------------------- work notifications (dingtalk-sdk)


def check_work_notification_send(env):
    r = env.notice("asyncsend_v2", {"agent_id": AGENT_ID, "userid_list": "zhangsan,lisi,nobody", "msg": NOTICE_TEXT})
    eq((r["errcode"], r["errmsg"]), (0, "ok"), "errcode, errmsg")
    if not isinstance(r.get("task_id"), int) or isinstance(r["task_id"], bool):
        raise AssertionError(f"task_id {r.get('task_id')!r} is not a number")
    if not isinstance(r.get("request_id"), str) or not r["request_id"]:
        raise AssertionError(f"request_id missing from {r}")
    env.tasks["text"] = r["task_id"]
    got = inbox(env.dd, task=str(r["task_id"]))
    eq([(m["person"], m["conversation"], m["sender_kind"], m["sender_id"], m["msgtype"]) for m in got],
       [("zhangsan", f"notice:{APP}:zhangsan", "work_notice", APP, "text"),
        ("lisi", f"notice:{APP}:lisi", "work_notice", APP, "text")], "the work notifications delivered")
    eq(got[0]["content"], NOTICE_TEXT["text"], "the text, as sent")


def send_result(env, task):
    return env.notice("getsendresult", {"agent_id": AGENT_ID, "task_id": task})["send_result"]


def check_progress_and_result(env):
    task = env.tasks["text"]
    r = env.notice("getsendprogress", {"agent_id": AGENT_ID, "task_id": task})
    eq(r["progress"], {"progress_in_percent": 100, "status": 2}, "progress")
    got = send_result(env, task)
    eq(got["invalid_user_id_list"], ["nobody"], "invalid_user_id_list")
    eq(got["unread_user_id_list"], ["zhangsan", "lisi"], "unread_user_id_list")
    eq(got["read_user_id_list"], [], "read_user_id_list")
    eq(got["forbidden_list"], [], "forbidden_list")
    eq(got["failed_user_id_list"], [], "failed_user_id_list")
    eq(got["invalid_dept_id_list"], [], "invalid_dept_id_list")


def check_same_content_again(env):
    r = env.notice("asyncsend_v2", {"agent_id": AGENT_ID, "userid_list": "zhangsan,lisi,nobody", "msg": NOTICE_TEXT})
    eq(r["errcode"], 0, "the send still succeeds")
    task = r["task_id"]
    ne(task, env.tasks["text"], "the second task id")
    got = send_result(env, task)
    eq(got["forbidden_list"], [{"code": "143106", "count": 1, "userid": "zhangsan"},
                               {"code": "143106", "count": 1, "userid": "lisi"}], "forbidden_list")
    eq(got["invalid_user_id_list"], ["nobody"], "invalid_user_id_list")
    eq(got["unread_user_id_list"], [], "unread_user_id_list: it reached nobody")
    eq(inbox(env.dd, task=str(task)), [], "nothing delivered")


def check_recall_notification(env):
    task = env.tasks["text"]
    r = env.notice("recall", {"agent_id": AGENT_ID, "msg_task_id": task})
    eq((r["errcode"], r["errmsg"]), (0, "ok"), "errcode, errmsg")
    got = inbox(env.dd, task=str(task))
    eq([(m["person"], isinstance(m.get("recalled_at"), int)) for m in got], [("zhangsan", True), ("lisi", True)],
       "the recalled work notifications")
    client_error(lambda: env.notice("recall", {"agent_id": AGENT_ID, "msg_task_id": 999999999}), 400002)


def check_wrong_agent_id(env):
    before = len(inbox(env.dd, person="lisi"))
    client_error(lambda: env.notice("asyncsend_v2", {"agent_id": AGENT_ID + 1, "userid_list": "lisi",
                                                     "msg": {"msgtype": "text", "text": {"content": "x"}}}), 40056)
    client_error(lambda: env.notice("getsendprogress", {"agent_id": AGENT_ID + 1, "task_id": env.tasks["text"]}),
                 40056)
    eq(len(inbox(env.dd, person="lisi")), before, "nothing delivered")


def check_media_upload(env, workdir):
    png = os.path.join(workdir, "tiny.png")
    webp = os.path.join(workdir, "x.webp")
    for path in (png, webp):
        with open(path, "wb") as f:
            f.write(tiny_png())
    with open(png, "rb") as f:
        r = env.community.message.media_upload("image", f)
    eq((r["errcode"], r["errmsg"], r["type"]), (0, "ok", "image"), "errcode, errmsg, type")
    if not isinstance(r.get("media_id"), str) or not r["media_id"].startswith("@") or len(r["media_id"]) < 8:
        raise AssertionError(f"media_id {r.get('media_id')!r}")
    if not isinstance(r.get("created_at"), int) or r["created_at"] < 10 ** 12:
        raise AssertionError(f"created_at {r.get('created_at')!r} is not a time in ms")
    env.media_id = r["media_id"]
    with open(webp, "rb") as f:
        client_error(lambda: env.community.message.media_upload("image", f), 40005)


def check_image_notification(env):
    if env.media_id is None:
        raise AssertionError("no media_id: the upload check failed")
    msg = {"msgtype": "image", "image": {"media_id": env.media_id}}
    r = env.notice("asyncsend_v2", {"agent_id": AGENT_ID, "userid_list": "lisi", "msg": msg})
    eq(r["errcode"], 0, "errcode")
    got = inbox(env.dd, task=str(r["task_id"]))
    eq([(m["person"], m["msgtype"], m["content"]) for m in got], [("lisi", "image", {"media_id": env.media_id})],
       "the image notification")
    unknown = {"msgtype": "image", "image": {"media_id": "@lAnoSuchMediaAtAll00000"}}
    client_error(lambda: env.notice("asyncsend_v2", {"agent_id": AGENT_ID, "userid_list": "lisi", "msg": unknown}),
                 40007)


def main():
    hostport, admin_token, _ = parse_args(__doc__.split("\n\n")[1].strip())
    for dist in ("alibabacloud-dingtalk", "alibabacloud-tea-openapi", "dingtalk-sdk"):
        print(f"{dist} {importlib.metadata.version(dist)}")
    env = Env(Dingdir(hostport, admin_token))
    checks = Checks("py_messages.py")
    checks.run("batchSend reaches the valid people, the rest come back invalid", check_batch_send_oto, env)
    checks.run("readStatus shows who read it", check_read_status, env)
    checks.run("groupMessages/send lands in the group", check_org_group_send, env)
    checks.run("batchRecall recalls a one-to-one send", check_batch_recall_oto, env)
    checks.run("robot sends are refused as DingTalk refuses them", check_robot_refusals, env)
    checks.run("a work notification reaches the valid people", check_work_notification_send, env)
    checks.run("getsendprogress and getsendresult", check_progress_and_result, env)
    checks.run("the same content again the same day is held back (143106)", check_same_content_again, env)
    checks.run("a work notification is recalled", check_recall_notification, env)
    checks.run("a wrong agent_id gets 40056", check_wrong_agent_id, env)
    with tempfile.TemporaryDirectory() as workdir:
        checks.run("media upload through the SDK", check_media_upload, env, workdir)
    checks.run("an image work notification with the uploaded media", check_image_notification, env)
    checks.finish()


main()
