#!/usr/bin/env python3
"""Referee: a chatbot written with the official Python `dingtalk-stream` SDK's `ChatbotHandler`,
unmodified, pointed at dingdir only by `DINGTALK_OPENAPI_ENDPOINT`: a person writes to it (the
admin API's `POST /_dingdir/chat`), it answers through the message's session webhook with the
SDK's own `reply_text` and `reply_markdown`, and the test reads the conversation from the inbox.
A picture the person sends is fetched with the SDK's own `get_image_download_url`
(`/v1.0/robot/messageFiles/download`, then a plain GET of the URL it gives).

Usage: py_chatbot.py HOST:PORT ADMIN_TOKEN   (a `dingdir dev` server)
"""

import sys

sys.dont_write_bytecode = True  # keep tests/compat free of __pycache__

import hashlib
import os
import threading
import time
import urllib.parse

from compat_common import DEMO_CO, Checks, Dingdir, eq, http_json, parse_args

HOSTPORT, ADMIN, _ = parse_args(__doc__.split("\n\n")[1].strip())
os.environ["DINGTALK_OPENAPI_ENDPOINT"] = f"http://{HOSTPORT}"

import dingtalk_stream  # noqa: E402 - must follow the endpoint
import requests  # noqa: E402
from dingtalk_stream import AckMessage, ChatbotHandler, ChatbotMessage  # noqa: E402

APP_KEY, APP_SECRET = "dingdemointernal", "demo-internal-secret"


class EchoBot(ChatbotHandler):
    """Answers every message: `echo: <text>` as text, and `**<text>**` as markdown when asked."""

    def __init__(self):
        super().__init__()
        self.seen = []
        self.replies = []

    async def process(self, callback):
        incoming = ChatbotMessage.from_dict(callback.data)
        self.seen.append(incoming)
        if incoming.message_type == "picture":
            url = self.get_image_download_url(incoming.image_content.download_code)
            data = requests.get(url, timeout=10).content
            self.replies.append(self.reply_text(f"picture {len(data)} {hashlib.sha256(data).hexdigest()[:12]}", incoming))
            return AckMessage.STATUS_OK, "OK"
        text = incoming.text.content.strip()
        self.replies.append(self.reply_text(f"echo: {text}", incoming))
        if text.startswith("md "):
            self.replies.append(self.reply_markdown("回复", f"**{text[3:]}**", incoming))
        return AckMessage.STATUS_OK, "OK"


def inbox(dingdir, conversation):
    q = urllib.parse.urlencode({"conversation": conversation, "limit": 1000})
    return dingdir.admin("GET", f"/_dingdir/inbox?{q}")["messages"]


def wait_for(pred, what, secs=15):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"{what} within {secs} s")


def check_a_group_message_reaches_the_bot_and_its_answers_land_in_the_inbox(dingdir, bot):
    said = dingdir.admin("POST", "/_dingdir/chat", {"app_key": APP_KEY, "from": "zhangsan", "group": "Compat Chat",
                                                    "text": "md 你好"})
    eq(said["ack"]["code"], 200, "the SDK's ack")
    incoming = wait_for(lambda: bot.seen[-1:] or None, "the message at the bot")[0]
    eq(incoming.text.content, " md 你好", "text as the bot reads it (the @ leaves a space)")
    eq(incoming.conversation_type, "2", "a group")
    eq(incoming.conversation_title, "Compat Chat", "conversationTitle")
    eq(incoming.sender_staff_id, "zhangsan", "senderStaffId")
    eq(incoming.sender_corp_id, DEMO_CO, "senderCorpId")
    eq(incoming.robot_code, APP_KEY, "robotCode")
    eq(incoming.is_in_at_list, True, "isInAtList")
    if not incoming.conversation_id.startswith("cid") or not incoming.session_webhook.startswith(f"http://{HOSTPORT}/"):
        raise AssertionError(f"conversationId {incoming.conversation_id!r}, sessionWebhook {incoming.session_webhook!r}")
    if not incoming.session_webhook_expired_time > incoming.create_at:
        raise AssertionError("the session webhook expires before it was made")
    eq(bot.replies, [{"errcode": 0, "errmsg": "ok"}] * 2, "the session webhook's answers to the SDK")
    got = inbox(dingdir, "Compat Chat")
    eq([(m["sender_kind"], m["sender_id"], m["msgtype"]) for m in got],
       [("person", "zhangsan", "text"), ("app_robot", APP_KEY, "text"), ("app_robot", APP_KEY, "markdown")],
       "the conversation")
    eq(got[1]["content"], {"content": "echo: md 你好"}, "the text answer")
    eq(got[1]["mentions"], {"atUserIds": ["zhangsan"]}, "the answer @s the sender, as the SDK sends it")
    eq(got[2]["content"], {"title": "回复", "text": "**你好**"}, "the markdown answer")


def check_a_one_to_one_chat(dingdir, bot):
    said = dingdir.admin("POST", "/_dingdir/chat", {"app_key": APP_KEY, "from": "lisi", "text": "ping"})
    eq(said["conversation"], f"single:{APP_KEY}:lisi", "the conversation's name")
    incoming = wait_for(lambda: [m for m in bot.seen if m.sender_staff_id == "lisi"], "lisi's message")[0]
    eq((incoming.conversation_type, incoming.text.content), ("1", "ping"), "one to one, no @ space")
    got = inbox(dingdir, said["conversation"])
    eq([m["content"]["content"] for m in got], ["ping", "echo: ping"], "the conversation")


def check_an_expired_session_webhook_is_refused(dingdir, bot):
    webhook = bot.seen[0].session_webhook
    dingdir.advance_clock(91 * 60)
    status, answer = http_json("POST", webhook, {"msgtype": "text", "text": {"content": "late"}})
    eq((status, answer), (200, {"errcode": 300001, "errmsg": "session 不存在"}), "a session 91 minutes old")


PNG = b"\x89PNG\r\n\x1a\n" + b"compat-picture" * 8


def check_a_picture_is_downloaded_with_the_sdks_own_call(dingdir, bot):
    status, token = http_json("GET", f"{dingdir.base}/gettoken?appkey={APP_KEY}&appsecret={APP_SECRET}")
    eq(status, 200, "gettoken")
    up = requests.post(f"{dingdir.base}/media/upload", params={"access_token": token["access_token"], "type": "image"},
                       files={"media": ("photo.png", PNG, "image/png")}, timeout=10).json()
    eq(up["errcode"], 0, f"the upload: {up}")
    said = dingdir.admin("POST", "/_dingdir/chat", {"app_key": APP_KEY, "from": "chanxm", "text": "",
                                                    "media_id": up["media_id"]})
    eq(said["message"]["msgtype"], "picture", "a picture message")
    incoming = wait_for(lambda: [m for m in bot.seen if m.sender_staff_id == "chanxm"], "the picture")[0]
    if not incoming.image_content or not incoming.image_content.download_code:
        raise AssertionError(f"no downloadCode in {incoming.to_dict()}")
    got = wait_for(lambda: [m for m in inbox(dingdir, said["conversation"]) if m["sender_kind"] == "app_robot"],
                   "the bot's answer")
    eq(got[0]["content"], {"content": f"picture {len(PNG)} {hashlib.sha256(PNG).hexdigest()[:12]}"},
       "the bot fetched the very bytes through messageFiles/download")


def check_bad_orders(dingdir):
    status, answer = http_json("POST", f"{dingdir.base}/_dingdir/chat",
                               {"app_key": APP_KEY, "from": "nobody", "text": "x"},
                               {"authorization": f"Bearer {ADMIN}"})
    eq(status, 400, "a person who is not a member")
    eq(answer["code"], "BadRequest", "admin error code")


def main():
    dingdir = Dingdir(HOSTPORT, ADMIN)
    bot = EchoBot()
    client = dingtalk_stream.DingTalkStreamClient(dingtalk_stream.Credential(APP_KEY, APP_SECRET))
    client.register_callback_handler(ChatbotMessage.TOPIC, bot)
    threading.Thread(target=client.start_forever, daemon=True).start()
    wait_for(lambda: dingdir.admin("GET", f"/_dingdir/stream/connections?app_key={APP_KEY}")["connections"],
             "the bot's Stream connection")
    checks = Checks("py_chatbot.py")
    checks.run("a person's group message reaches the bot and its answers land in the inbox",
               check_a_group_message_reaches_the_bot_and_its_answers_land_in_the_inbox, dingdir, bot)
    checks.run("a one-to-one chat", check_a_one_to_one_chat, dingdir, bot)
    checks.run("an expired session webhook is refused", check_an_expired_session_webhook_is_refused, dingdir, bot)
    checks.run("a picture is downloaded with the SDK's own call", check_a_picture_is_downloaded_with_the_sdks_own_call,
               dingdir, bot)
    checks.run("a message from a non-member is refused", check_bad_orders, dingdir)
    checks.finish()


main()
