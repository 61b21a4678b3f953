#!/usr/bin/env python3
"""Referee: the custom group robot's webhook through PyPI's `DingtalkChatbot` (zhuifengshen,
module `dingtalkchatbot`), unmodified, pointed at dingdir by its webhook URL alone.

Usage: py_robot.py HOST:PORT ADMIN_TOKEN   (a `dingdir dev` server)

The robots come from a seed applied through the admin API, as a test run states its conditions.
Each message type is sent signed, exactly as the library signs (its own timestamp and HMAC), and
read back from the inbox (`GET /_dingdir/inbox`); a wrong secret, a missing keyword, an unknown
token and the per-minute limit get DingTalk's answers, which the library hands back as they are.
"""

import sys

sys.dont_write_bytecode = True  # keep tests/compat free of __pycache__

import logging
import urllib.parse

from dingtalkchatbot.chatbot import ActionCard, CardItem, DingtalkChatbot

from compat_common import DEMO_CO, Checks, Dingdir, eq, parse_args

logging.getLogger("dingtalkchatbot").setLevel(logging.CRITICAL)  # it logs every refusal itself

SIGNED, SECRET = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90", "SECcompat0f1e2d3c4b5a69788796a5b4c3d2e1f0"
KEYWORDS = "kwcompat0000000000000000000000000000000000000000000000000000001"
FAST = "fastcompat000000000000000000000000000000000000000000000000000001"

SEED = f"""robots:
  - token: {SIGNED}
    corp: {DEMO_CO}
    name: Compat Signed
    group: Compat Ops
    secret: {SECRET}
  - token: {KEYWORDS}
    corp: {DEMO_CO}
    name: Compat Keywords
    group: Compat Alerts
    keywords: [告警, alert]
  - token: {FAST}
    corp: {DEMO_CO}
    name: Compat Fast
    group: Compat Fast
    keywords: [x]
"""

SIGN_MISMATCH = ("description:机器人发送签名不匹配;solution:请确认签名和生成签名的时间戳必须都放在调用的网址中，"
                 "请确认机器人的密钥加密和填写正确;link:请参考本接口对应文档获得具体要求，或者在"
                 "https://open.dingtalk.com/document/  搜索相关文档;")
NO_KEYWORD = "description:关键词不匹配;solution:请联系群管理员查看此机器人的关键词，并在发送的信息中包含此关键词;"


def webhook(hostport, token):
    return f"http://{hostport}/robot/send?access_token={token}"


def inbox(dingdir, conversation):
    q = urllib.parse.urlencode({"conversation": conversation, "limit": 1000})
    return dingdir.admin("GET", f"/_dingdir/inbox?{q}")["messages"]


def unwrap(url):
    """The URL DingtalkChatbot wrapped as `dingtalk://dingtalkclient/page/link?url=…`."""
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return q["url"][0]


def check_every_message_type_signed(hostport, dingdir):
    bot = DingtalkChatbot(webhook(hostport, SIGNED), secret=SECRET)
    sent = [
        bot.send_text("部署完成", at_mobiles=["15000009144"]),
        bot.send_markdown("日报", "#### 日报\n- 完成 [详情](https://ci.example/7)", at_dingtalk_ids=["zhangsan"]),
        bot.send_link("Build 7", "failed", "https://ci.example/7"),
        bot.send_action_card(ActionCard("审批", "请审批", [CardItem("查看", "https://x.example")])),
        bot.send_action_card(ActionCard("投票", "选一个", [CardItem("A", "https://a.example"),
                                                          CardItem("B", "https://b.example")], 1)),
        bot.send_feed_card([CardItem("One", "https://1.example", "https://1.example/p.png"),
                            CardItem("Two", "https://2.example", "https://2.example/p.png")]),
    ]
    for answer in sent:
        eq(answer, {"errcode": 0, "errmsg": "ok"}, "each answer")
    got = inbox(dingdir, "Compat Ops")
    eq([m["msgtype"] for m in got], ["text", "markdown", "link", "actionCard", "actionCard", "feedCard"],
       "the inbox, in the order sent")
    eq(got[0]["content"], {"content": "部署完成\n@15000009144"}, "text as the library sent it (auto @)")
    eq(got[0]["mentions"], {"atMobiles": ["15000009144"]}, "whom the text @s, as the library sent it")
    eq(got[1]["content"]["title"], "日报", "markdown title")
    eq(got[1]["mentions"]["atUserIds"], ["zhangsan"], "whom the markdown @s")
    eq(got[2]["content"]["title"], "Build 7", "link title")
    eq(unwrap(got[2]["content"]["messageUrl"]), "https://ci.example/7", "link URL, unwrapped")
    eq(got[3]["content"]["singleTitle"], "查看", "one button as singleTitle")
    eq([b["title"] for b in got[4]["content"]["btns"]], ["A", "B"], "two buttons as btns")
    eq([unwrap(b["actionURL"]) for b in got[4]["content"]["btns"]], ["https://a.example", "https://b.example"],
       "button URLs")
    eq([link["title"] for link in got[5]["content"]["links"]], ["One", "Two"], "feed card links")
    for m in got:
        eq((m["sender"], m["sender_kind"], m["corp_id"]), ("Compat Signed", "webhook_robot", DEMO_CO), "sender")


def check_a_wrong_secret_is_refused(hostport, dingdir):
    before = len(inbox(dingdir, "Compat Ops"))
    bot = DingtalkChatbot(webhook(hostport, SIGNED), secret="SECnotthesecret")
    eq(bot.send_text("hi", is_auto_at=False), {"errcode": 310000, "errmsg": SIGN_MISMATCH}, "wrong secret")
    unsigned = DingtalkChatbot(webhook(hostport, SIGNED))
    eq(unsigned.send_text("hi"), {"errcode": 310000, "errmsg": SIGN_MISMATCH}, "no signature")
    eq(len(inbox(dingdir, "Compat Ops")), before, "nothing refused lands in the inbox")


def check_keywords(hostport, dingdir):
    bot = DingtalkChatbot(webhook(hostport, KEYWORDS))
    eq(bot.send_text("all quiet"), {"errcode": 310000, "errmsg": NO_KEYWORD}, "no keyword")
    eq(bot.send_markdown("磁盘告警", "90% full"), {"errcode": 0, "errmsg": "ok"}, "a keyword in the title")
    eq([m["content"]["title"] for m in inbox(dingdir, "Compat Alerts")], ["磁盘告警"], "the inbox")


def check_unknown_token(hostport):
    bot = DingtalkChatbot(webhook(hostport, "notarobot"))
    eq(bot.send_text("x"), {"errcode": 300001, "errmsg": "token is not exist"}, "unknown token")


def check_twenty_a_minute(hostport):
    # A fresh instance per send: the library would otherwise sleep on its own 20th send.
    answers = []
    for i in range(45):
        answer = DingtalkChatbot(webhook(hostport, FAST)).send_text(f"x {i}")
        answers.append(answer["errcode"])
        if answer["errcode"] == 410100:
            eq(answer["errmsg"], "send too fast, exceed 20 times per minute", "errmsg")
            break
    if 410100 not in answers or answers.index(410100) < 20:
        raise AssertionError(f"expected 20+ sends then 410100, got {answers}")
    again = DingtalkChatbot(webhook(hostport, FAST)).send_text("x again")
    eq(again["errcode"], 410100, "still refused right after")


def main():
    hostport, token, _ = parse_args(__doc__.split("\n\n")[1].strip())
    dingdir = Dingdir(hostport, token)
    dingdir.apply_seed(SEED)
    checks = Checks("py_robot.py")
    checks.run("every message type, signed, lands in the inbox", check_every_message_type_signed, hostport, dingdir)
    checks.run("a wrong or missing signature gets 310000", check_a_wrong_secret_is_refused, hostport, dingdir)
    checks.run("a robot with keywords takes only messages with one", check_keywords, hostport, dingdir)
    checks.run("an unknown token gets 300001", check_unknown_token, hostport)
    checks.run("past 20 a minute the robot answers 410100", check_twenty_a_minute, hostport)
    checks.finish()


main()
