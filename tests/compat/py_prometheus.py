#!/usr/bin/env python3
"""Scrapes dingdir's Prometheus exposition as a Prometheus server would and parses it with
`prometheus_client`'s own text parser, the reference implementation of the format: every
family parses, has the type dingdir declares, and counts what this driver did (GetUser calls
through the official Python SDK, a scripted `-1` on getbymobile, a refused token).

Usage: py_prometheus.py HOST:PORT ADMIN_TOKEN
"""

import sys

sys.dont_write_bytecode = True  # keep tests/compat free of __pycache__

import urllib.request

from alibabacloud_dingtalk.contact_1_0 import client as contact_client
from alibabacloud_dingtalk.contact_1_0 import models as contact_models
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_util import models as util_models
from prometheus_client.parser import text_string_to_metric_families

from compat_common import MOBILE, SECRETS, Checks, Dingdir, eq, http_json, parse_args

PATH = "/_dingdir/metrics/prometheus"


def scrape(dd):
    req = urllib.request.Request(dd.base + PATH, headers={"authorization": f"Bearer {dd.admin_token}"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=20) as r:
        eq(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8", "content type")
        return r.read().decode()


def families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def value(family, name, **labels):
    found = [s.value for s in family.samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    if len(found) != 1:
        raise AssertionError(f"{name}{labels}: {len(found)} samples")
    return found[0]


def check_requests_are_counted(dd):
    config = open_api_models.Config(protocol="http", region_id="central", endpoint=dd.hostport)
    token = dd.mint("dingdemointernal", mobile=MOBILE["zhangsan"])["accessToken"]
    client = contact_client.Client(config)
    for _ in range(3):
        headers = contact_models.GetUserHeaders(x_acs_dingtalk_access_token=token)
        client.get_user_with_options("me", headers, util_models.RuntimeOptions())
    status, answer = http_json("GET", f"{dd.base}/gettoken?appkey=dingdemointernal&appsecret={SECRETS['dingdemointernal']}")
    eq(status, 200, "gettoken status")
    app_token = answer["access_token"]
    dd.add_fault({"endpoint": "V2UserGetByMobile", "action": {"kind": "errcode", "errcode": -1}, "fire": {"next": 1}})
    for want in (-1, 0):
        _, got = http_json("POST", f"{dd.base}/topapi/v2/user/getbymobile?access_token={app_token}",
                           {"mobile": MOBILE["zhangsan"]})
        eq(got["errcode"], want, "getbymobile errcode")

    fams = families(scrape(dd))
    requests = fams["dingdir_requests"]  # the parser drops a counter's `_total` from the family name
    eq(requests.type, "counter", "dingdir_requests_total type")
    eq(value(requests, "dingdir_requests_total", endpoint="GetUser", status="200", code=""), 3, "GetUser 200s")
    eq(value(requests, "dingdir_requests_total", endpoint="V2UserGetByMobile", code="-1"), 1, "getbymobile -1")
    eq(value(requests, "dingdir_requests_total", endpoint="V2UserGetByMobile", code="0"), 1, "getbymobile 0")

    latency = fams["dingdir_request_duration_seconds"]
    eq(latency.type, "histogram", "latency type")
    buckets = [s for s in latency.samples if s.name.endswith("_bucket") and s.labels["endpoint"] == "GetUser"]
    counts = [s.value for s in buckets]
    eq(counts, sorted(counts), "GetUser buckets are cumulative")
    eq(buckets[-1].labels["le"], "+Inf", "the last bucket")
    eq(value(latency, "dingdir_request_duration_seconds_count", endpoint="GetUser"), counts[-1], "count is +Inf")

    eq(fams["dingdir_faults_fired"].type, "counter", "faults type")
    eq(value(fams["dingdir_faults_fired"], "dingdir_faults_fired_total", kind="errcode"), 1, "faults fired")
    for gauge in ("dingdir_connections_open", "dingdir_in_flight_requests", "dingdir_cache_entries", "dingdir_journal_entries"):
        eq(fams[gauge].type, "gauge", f"{gauge} type")
    if value(fams["dingdir_connections_open"], "dingdir_connections_open") < 1:
        raise AssertionError("the scrape's own connection is not counted open")


def main():
    hostport, admin_token, _ = parse_args("py_prometheus.py HOST:PORT ADMIN_TOKEN")
    dd = Dingdir(hostport, admin_token)
    checks = Checks("py_prometheus.py")
    checks.run("prometheus_client parses the exposition and it counts what was done", check_requests_are_counted, dd)
    checks.finish()


if __name__ == "__main__":
    main()
