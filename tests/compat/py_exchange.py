#!/usr/bin/env python3
"""Exchanges authorisation codes with the official Python SDK, as the app behind the browser
sign-in would: `get_user_token` (authorization_code), then `get_user_with_options('me')`.

Usage: py_exchange.py HOST:PORT ADMIN_TOKEN CODE [CODE...]   (codes from browser.js, for
dingdemointernal). Prints one `me=<json>` line per code (GetUser's body as `to_map()`).
"""

import sys

sys.dont_write_bytecode = True  # keep tests/compat free of __pycache__

import json

from alibabacloud_dingtalk.contact_1_0 import client as contact_client
from alibabacloud_dingtalk.contact_1_0 import models as contact_models
from alibabacloud_dingtalk.oauth2_1_0 import client as oauth_client
from alibabacloud_dingtalk.oauth2_1_0 import models as oauth_models
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_util import models as util_models

from compat_common import DEMO_CO, SECRETS, TOKEN_RE, Checks, eq, matches, parse_args


def check_exchange(hostport, code):
    config = open_api_models.Config(protocol="http", region_id="central", endpoint=hostport)
    r = oauth_client.Client(config).get_user_token(oauth_models.GetUserTokenRequest(
        client_id="dingdemointernal", client_secret=SECRETS["dingdemointernal"],
        code=code, grant_type="authorization_code"))
    matches(TOKEN_RE, r.body.access_token, "access_token")
    eq(r.body.corp_id, DEMO_CO, "corp_id")
    headers = contact_models.GetUserHeaders(x_acs_dingtalk_access_token=r.body.access_token)
    me = contact_client.Client(config).get_user_with_options("me", headers, util_models.RuntimeOptions())
    print("me=" + json.dumps(me.body.to_map(), ensure_ascii=False, sort_keys=True), flush=True)


def main():
    hostport, _admin_token, codes = parse_args("py_exchange.py HOST:PORT ADMIN_TOKEN CODE [CODE...]")
    if not codes:
        raise SystemExit("no code to exchange")
    checks = Checks("py_exchange")
    for code in codes:
        checks.run(f"check_exchange {code}", check_exchange, hostport, code)
    checks.finish()


if __name__ == "__main__":
    main()
