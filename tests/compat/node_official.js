#!/usr/bin/env node
// Referee: the official Node SDK `@alicloud/dingtalk` (oauth2_1_0 and contact_1_0).
//
// Usage: node node_official.js HOST:PORT ADMIN_TOKEN   (a `dingdir dev` server, demo directory)
//
// This SDK sends chunked POST bodies and casts every answer to its model's types, throwing on a
// mismatch (SDK-WIRE.md §2.3), so each check also asserts the JS types it got. Errors are
// asserted through the SDK's own error: `e.code`, `e.statusCode`, `e.data`.
'use strict';

const { Checks, Dingdir, eq, ne, matches, rejects, parseArgs, C } = require('./compat_common.js');
const $OpenApi = require('@alicloud/openapi-client');
const $Util = require('@alicloud/tea-util');
const contact = require('@alicloud/dingtalk/contact_1_0');
const oauth = require('@alicloud/dingtalk/oauth2_1_0');

function types(obj, spec, what) {
  for (const [key, type] of Object.entries(spec)) {
    const t = obj[key] === undefined ? 'undefined' : typeof obj[key];
    if (t !== type) {
      throw new Error(`${what}.${key}: expected a ${type}, got ${t} ${JSON.stringify(obj[key])}`);
    }
  }
}

class Env {
  constructor(dd) {
    this.dd = dd;
    const config = new $OpenApi.Config({});
    config.protocol = 'http';
    config.regionId = 'central';
    config.endpoint = dd.hostport;
    this.oauth = new oauth.default(config);
    this.contact = new contact.default(config);
    this.tokens = {};
  }

  async init() {
    for (const [key, app, who] of [
      ['zhangsan', 'dingdemointernal', 'zhangsan'],
      ['lisi', 'dingdemointernal', 'lisi'],
      ['sunqi', 'dingdemointernal', 'sunqi'],
      ['chanxm', 'dingdemointernal', 'chanxm'],
      ['zhangsan@readonly', 'dingdemoreadonly', 'zhangsan'],
      ['zhangsan@suite', 'dingdemosuite', 'zhangsan'],
      ['lisi@suite', 'dingdemosuite', 'lisi'],
      ['zhouba@suite', 'dingdemosuite', 'zhouba'],
    ]) {
      this.tokens[key] = (await this.dd.mint(app, C.MOBILE[who])).accessToken;
    }
  }

  // wangwu's unionId, learnt once per server (see Dingdir.departedUnionId).
  async departedUnionId() {
    if (!this.wangwuUnionId) {
      this.wangwuUnionId = await this.dd.departedUnionId(async (token) => (await this.getUser(token, 'me')).body.unionId);
    }
    return this.wangwuUnionId;
  }

  getUser(token, unionId) {
    const h = new contact.GetUserHeaders({});
    h.xAcsDingtalkAccessToken = token;
    return this.contact.getUserWithOptions(unionId, h, new $Util.RuntimeOptions({}));
  }

  userToken(req) {
    return this.oauth.getUserToken(new oauth.GetUserTokenRequest(req));
  }

  leaveRecords(token, req) {
    const h = new contact.ListEmpLeaveRecordsHeaders({});
    h.xAcsDingtalkAccessToken = token;
    return this.contact.listEmpLeaveRecordsWithOptions(new contact.ListEmpLeaveRecordsRequest(req), h, new $Util.RuntimeOptions({}));
  }

  appToken(appKey = 'dingdemointernal', appSecret = C.SECRETS[appKey]) {
    return this.oauth.getAccessToken(new oauth.GetAccessTokenRequest({ appKey, appSecret }));
  }
}

// The SDK threw an Error carrying the gateway's error body; returns it.
async function apiError(promise, code, status) {
  const e = await rejects(promise);
  eq(e.code, code, 'e.code');
  eq(e.statusCode, status, 'e.statusCode');
  eq(e.data && e.data.code, code, 'e.data.code');
  eq(e.data.statusCode, status, 'e.data.statusCode');
  matches(C.REQUEST_ID_RE, e.data.requestid, 'e.data.requestid');
  if (!e.message.startsWith(`${code}: code: ${status}, `) || !e.message.endsWith(e.data.requestid)) {
    throw new Error(`e.message does not carry the code, status and request id: ${e.message}`);
  }
  return e;
}

const USER_TYPES = {
  nick: 'string', avatarUrl: 'string', mobile: 'string', openId: 'string', unionId: 'string',
  email: 'string', stateCode: 'string', visitor: 'boolean',
};

// ---------------------------------------------------------------- oauth2_1_0

async function check_app_token(env) {
  const first = await env.appToken();
  eq(first.statusCode, 200, 'statusCode');
  types(first.body, { accessToken: 'string', expireIn: 'number' }, 'body');
  matches(C.TOKEN_RE, first.body.accessToken, 'accessToken');
  eq(first.body.expireIn, 7200, 'expireIn');
  const again = await env.appToken();
  eq(again.body.accessToken, first.body.accessToken, 'an internal app asking again gets the same token');
}

async function check_app_token_bad_secret(env) {
  await apiError(env.appToken('dingdemointernal', 'not-the-secret'), 'invalidClientIdOrSecret', 400);
  await apiError(env.appToken('dingnosuchapp', 'x'), 'invalidClientIdOrSecret', 400);
}

async function check_user_token_from_code(env) {
  const secret = C.SECRETS.dingdemointernal;
  const code = await env.dd.code('dingdemointernal', 'zhangsan', 'node-1');
  const r = await env.userToken({ clientId: 'dingdemointernal', clientSecret: secret, code, grantType: 'authorization_code' });
  eq(r.statusCode, 200, 'statusCode');
  types(r.body, { accessToken: 'string', refreshToken: 'string', expireIn: 'number', corpId: 'string' }, 'body');
  matches(C.TOKEN_RE, r.body.accessToken, 'accessToken');
  matches(C.TOKEN_RE, r.body.refreshToken, 'refreshToken');
  eq(r.body.expireIn, 7200, 'expireIn');
  eq(r.body.corpId, C.DEMO_CO, 'corpId (scope openid corpid)');
  eq((await env.getUser(r.body.accessToken, 'me')).body.nick, 'zhangsan', 'nick of the signed-in person');
  await apiError(env.userToken({ clientId: 'dingdemointernal', clientSecret: secret, code, grantType: 'authorization_code' }),
    'invalidCode', 400);
  const other = await env.dd.code('dingdemointernal', 'zhangsan');
  await apiError(env.userToken({ clientId: 'dingdemointernal', clientSecret: 'wrong', code: other, grantType: 'authorization_code' }),
    'invalidClientIdOrSecret', 400);
}

async function check_user_token_refresh(env) {
  const first = await env.dd.mint('dingdemointernal', C.MOBILE.lisi);
  const req = { clientId: 'dingdemointernal', clientSecret: C.SECRETS.dingdemointernal, grantType: 'refresh_token' };
  const r = await env.userToken({ ...req, refreshToken: first.refreshToken });
  eq(r.statusCode, 200, 'statusCode');
  types(r.body, { accessToken: 'string', refreshToken: 'string', expireIn: 'number' }, 'body');
  ne(r.body.accessToken, first.accessToken, 'refreshed access token');
  eq((await env.getUser(r.body.accessToken, 'me')).body.nick, 'lisi', 'nick with the refreshed token');
  await apiError(env.userToken({ ...req, refreshToken: 'f'.repeat(32) }), 'invalidRefreshToken', 400);
}

async function check_corp_token(env) {
  const corpToken = (suiteKey = 'dingdemosuite', suiteTicket = C.SUITE_TICKET) =>
    env.oauth.getCorpAccessToken(new oauth.GetCorpAccessTokenRequest({
      suiteKey, suiteSecret: C.SECRETS[suiteKey] || 'x', authCorpId: C.OTHER_CO, suiteTicket }));
  const first = await corpToken();
  eq(first.statusCode, 200, 'statusCode');
  types(first.body, { accessToken: 'string', expireIn: 'number' }, 'body');
  matches(C.TOKEN_RE, first.body.accessToken, 'accessToken');
  eq(first.body.expireIn, 7200, 'expireIn');
  ne((await corpToken()).body.accessToken, first.body.accessToken, 'a third-party corp token is new each time');
  await apiError(corpToken('dingdemosuite', 'not-the-ticket'), 'invalidSuiteTicket', 400);
  await apiError(corpToken('dingnosuchsuite'), 'invalidSuiteKey', 400);
}

// ---------------------------------------------------------------- contact_1_0 GetUser

async function check_get_user_me(env) {
  const r = await env.getUser(env.tokens.zhangsan, 'me');
  eq(r.statusCode, 200, 'statusCode');
  const b = r.body;
  types(b, USER_TYPES, 'body');
  eq(b.nick, 'zhangsan', 'nick');
  eq(b.avatarUrl, 'https://static.example.com/avatar/zhangsan.png', 'avatarUrl');
  eq(b.mobile, '15000009144', 'mobile');
  eq(b.stateCode, '86', 'stateCode');
  eq(b.email, 'zhangsan@example.com', 'email');
  eq(b.visitor, false, 'visitor');
  matches(/^[A-Za-z0-9]{20,30}$/, b.unionId, 'unionId');
  matches(/^[A-Za-z0-9]{20,30}$/, b.openId, 'openId');
  matches(C.REQUEST_ID_RE, r.headers['x-acs-request-id'], 'x-acs-request-id header');
  const own = await env.getUser(env.tokens.zhangsan, b.unionId);
  eq(JSON.stringify(own.body.toMap()), JSON.stringify(b.toMap()), 'GetUser(own unionId) equals GetUser(me)');
}

async function check_get_user_co_member(env) {
  const lisi = (await env.getUser(env.tokens.lisi, 'me')).body;
  const seen = (await env.getUser(env.tokens.zhangsan, lisi.unionId)).body;
  types(seen, USER_TYPES, 'body');
  eq(seen.nick, 'lisi', 'nick');
  eq(seen.unionId, lisi.unionId, 'unionId');
  eq(seen.mobile, '15532403240', 'mobile');
}

async function check_get_user_not_visible(env) {
  const zhouba = (await env.getUser(env.tokens['zhouba@suite'], 'me')).body.unionId;
  const first = await apiError(env.getUser(env.tokens['lisi@suite'], zhouba), 'invalidParameter.user.notFound', 404);
  for (const unionId of ['ZbSRiSPiiiKZtt5ZYiSiiIQiEiE', await env.departedUnionId()]) { // unknown; departed
    const e = await apiError(env.getUser(env.tokens.zhangsan, unionId), 'invalidParameter.user.notFound', 404);
    eq(e.data.message, first.data.message, 'the same message, so existence does not leak');
  }
}

async function check_get_user_ids_per_developer(env) {
  const internal = (await env.getUser(env.tokens.zhangsan, 'me')).body;
  const readonly = (await env.getUser(env.tokens['zhangsan@readonly'], 'me')).body;
  const suite = (await env.getUser(env.tokens['zhangsan@suite'], 'me')).body;
  eq(readonly.unionId, internal.unionId, 'unionId in two apps of one developer');
  ne(readonly.openId, internal.openId, 'openId in two apps');
  ne(suite.unionId, internal.unionId, 'unionId under two developers');
}

async function check_get_user_mobile_forms(env) {
  const readonly = (await env.getUser(env.tokens['zhangsan@readonly'], 'me')).body;
  types(readonly, { mobile: 'undefined', stateCode: 'undefined', visitor: 'boolean' }, 'readonly body');
  const suite = (await env.getUser(env.tokens['zhangsan@suite'], 'me')).body;
  eq(suite.mobile, '150****9144', 'mobile for a third-party enterprise app');
  eq(suite.stateCode, '86', 'stateCode');
  const chan = (await env.getUser(env.tokens.chanxm, 'me')).body;
  eq(chan.mobile, '91234567', 'foreign mobile');
  eq(chan.stateCode, '852', 'foreign stateCode');
}

async function check_get_user_empty_fields_absent(env) {
  const b = (await env.getUser(env.tokens.sunqi, 'me')).body;
  types(b, { email: 'undefined', avatarUrl: 'undefined', loginEmail: 'undefined', nick: 'string', visitor: 'boolean' }, 'body');
  eq(b.visitor, false, 'visitor');
}

async function check_get_user_token_errors(env) {
  await apiError(env.contact.getUser('me'), 'AuthenticationFailed.MissingParameter', 400);
  await apiError(env.getUser('0123456789abcdef0123456789abcdef', 'me'), 'InvalidAuthentication', 400);
  const app = (await env.appToken()).body.accessToken;
  const e = await apiError(env.getUser(app, 'me'), 'Forbidden.AccessDenied.AccessTokenPermissionDenied', 403);
  eq(JSON.stringify(e.data.accessdenieddetail), JSON.stringify({ requiredScopes: ['Contact.User.Read'] }),
    'e.data.accessdenieddetail');
  eq(JSON.stringify(e.accessDeniedDetail), JSON.stringify({ requiredScopes: ['Contact.User.Read'] }), 'e.accessDeniedDetail');
}

async function check_expired_token(env) {
  const minted = await env.dd.mint('dingdemointernal', C.MOBILE.zhangsan);
  await env.dd.advanceClock(7201);
  await apiError(env.getUser(minted.accessToken, 'me'), 'InvalidAuthentication', 400);
  const r = await env.userToken({ clientId: 'dingdemointernal', clientSecret: C.SECRETS.dingdemointernal,
    refreshToken: minted.refreshToken, grantType: 'refresh_token' });
  eq((await env.getUser(r.body.accessToken, 'me')).body.nick, 'zhangsan', 'nick after refresh');
}

// ---------------------------------------------------------------- contact_1_0 ListEmpLeaveRecords

const LEAVE_TYPES = {
  userId: 'string', name: 'string', stateCode: 'string', mobile: 'string', leaveTime: 'string', leaveReason: 'string',
};

async function check_emp_leave_records(env) {
  const token = (await env.appToken()).body.accessToken;
  const window = { startTime: '2026-11-01T00:00:00Z', endTime: '2026-12-01T00:00:00Z' };
  const r = await env.leaveRecords(token, { ...window, nextToken: '0', maxResults: 50 });
  eq(r.statusCode, 200, 'statusCode');
  eq(r.body.nextToken, undefined, 'nextToken on the only page');
  eq(r.body.records.length, 1, 'records');
  const w = r.body.records[0];
  types(w, LEAVE_TYPES, 'records[0]');
  eq(JSON.stringify([w.userId, w.name, w.stateCode, w.mobile, w.leaveTime, w.leaveReason]),
    JSON.stringify(['wangwu', '王五', '86', '13800000001', '2026-11-02T01:30:00Z', 'leave']), "wangwu's record");
  const e = await apiError(env.leaveRecords(token, { ...window, maxResults: 0 }), 'invalidParameter.param.invalid', 400);
  eq(e.data.message, '入参错误：maxResults', 'message');
  const readonly = (await env.appToken('dingdemoreadonly')).body.accessToken;
  await apiError(env.leaveRecords(readonly, { ...window, maxResults: 10 }),
    'Forbidden.AccessDenied.AccessTokenPermissionDenied', 403);
}

const CHECKS = [
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
  check_expired_token, // moves the server's clock: keep it last
];

async function main() {
  const [hostport, adminToken] = parseArgs('node node_official.js HOST:PORT ADMIN_TOKEN');
  for (const pkg of ['@alicloud/dingtalk', '@alicloud/openapi-client', '@alicloud/tea-typescript']) {
    console.log(pkg, require(`${pkg}/package.json`).version);
  }
  const env = new Env(new Dingdir(hostport, adminToken));
  await env.init();
  const checks = new Checks('node_official');
  for (const check of CHECKS) {
    await checks.run(check.name, () => check(env));
  }
  checks.finish();
}

main().catch((e) => {
  console.log('driver crashed:', e);
  process.exit(2);
});
