// Shared by the Node referee drivers: a tiny check runner, the admin API, and the browser
// sign-in walked with fetch (to get real authorisation codes without a browser).
// Only Node's standard library. Every request goes to the dingdir under test on 127.0.0.1.
'use strict';

for (const v of ['http_proxy', 'https_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY']) {
  delete process.env[v]; // nothing here may leave 127.0.0.1
}

// The demo directory (examples/demo.yaml).
const C = {
  DEMO_CO: 'ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4',
  OTHER_CO: 'ding0b7e4d2a6c8f1e3b5d7a9c2e4f6b8d01',
  PASSWORD: 'demo-password',
  REDIRECT_URI: 'http://127.0.0.1:3000/callback',
  SUITE_TICKET: 'demo-suite-ticket',
  SECRETS: {
    dingdemointernal: 'demo-internal-secret',
    dingdemoreadonly: 'demo-readonly-secret',
    dingothercoapp: 'other-internal-secret',
    dingdemosuite: 'demo-suite-secret',
    dingdemopersonal: 'demo-personal-secret',
  },
  MOBILE: {
    zhangsan: '15000009144',
    lisi: '15532403240',
    wangwu: '13800000001',
    chanxm: '+852-91234567',
    sunqi: '13900000007',
    zhouba: '13700000008',
  },
  TOKEN_RE: /^[0-9a-f]{32}$/,
  REQUEST_ID_RE: /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/,
};

// `DRIVER HOST:PORT ADMIN_TOKEN [more...]` -> [hostport, adminToken, ...rest]
function parseArgs(usage) {
  const args = process.argv.slice(2);
  if (args.length < 2 || args[0].includes('://')) {
    console.log(`usage: ${usage}`);
    process.exit(2);
  }
  if (!args[0].startsWith('127.0.0.1:')) {
    console.log(`refusing to talk to ${args[0]}: only 127.0.0.1 is allowed`);
    process.exit(2);
  }
  return args;
}

// ---------------------------------------------------------------- checks

class Checks {
  constructor(driver) {
    this.driver = driver;
    this.passed = 0;
    this.failed = [];
  }

  async run(name, fn) {
    try {
      await fn();
    } catch (e) {
      this.failed.push(name);
      console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
      return;
    }
    this.passed += 1;
    console.log(`ok   ${name}`);
  }

  finish() {
    console.log(`${this.driver}: ${this.passed} checks ok, ${this.failed.length} failing`);
    for (const name of this.failed) console.log(`  failing: ${name}`);
    process.exitCode = this.failed.length ? 1 : 0;
  }
}

function show(v) {
  return `${JSON.stringify(v)} (${v === null ? 'null' : typeof v})`;
}

function eq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

function ne(a, b, what) {
  if (a === b) throw new Error(`${what}: both are ${show(a)}`);
}

function matches(re, value, what) {
  if (typeof value !== 'string' || !re.test(value)) throw new Error(`${what}: ${show(value)} does not match ${re}`);
}

// Awaits a promise that must reject; returns the error.
async function rejects(promise) {
  let result;
  try {
    result = await promise;
  } catch (e) {
    return e;
  }
  throw new Error(`expected an error, the call returned ${JSON.stringify(result && result.body)}`);
}

// ---------------------------------------------------------------- the server

class Dingdir {
  constructor(hostport, adminToken) {
    this.hostport = hostport;
    this.base = `http://${hostport}`;
    this.adminToken = adminToken;
  }

  async admin(method, path, body, contentType = 'application/json') {
    const res = await fetch(this.base + path, {
      method,
      headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': contentType },
      body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(20000),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`admin ${method} ${path} answered ${res.status}: ${text}`);
    return JSON.parse(text);
  }

  // A user token through the admin API: {accessToken, refreshToken, expireIn, corpId}.
  mint(appKey, mobile) {
    return this.admin('POST', '/_dingdir/tokens/user', { app_key: appKey, mobile });
  }

  applySeed(yaml) {
    return this.admin('POST', '/_dingdir/seed', yaml, 'application/yaml');
  }

  // wangwu is departed, and a departed person cannot sign in. To learn his unionId (through
  // `getUnionId(token)`), the admin seed API makes him active for a moment, then departed again.
  async departedUnionId(getUnionId) {
    const seed = (status) => `people:
  - id: wangwu
    nick: wangwu
    mobile: "13800000001"
    email: wangwu@example.com
    password: demo-password
    memberships:
      - { corp: ${C.DEMO_CO}, userid: wangwu, name: 王五, status: ${status} }
`;
    await this.applySeed(seed('active'));
    const unionId = await getUnionId((await this.mint('dingdemointernal', C.MOBILE.wangwu)).accessToken);
    // Departed again as the demo has him: the time and reason empLeaveRecords lists.
    await this.applySeed(seed('departed, left_at: 1793583000000, leave_reason: leave'));
    return unionId;
  }

  advanceClock(secs) {
    return this.admin('POST', '/_dingdir/clock', { advance_secs: secs });
  }

  authorizeUrl(appKey, state, scope = 'openid corpid') {
    const q = new URLSearchParams({
      redirect_uri: C.REDIRECT_URI, response_type: 'code', client_id: appKey, scope, state, prompt: 'consent',
    });
    return `${this.base}/oauth2/auth?${q.toString().replace(/\+/g, '%20')}`;
  }

  // Walks the HTML sign-in as a browser would and returns the redirect's query as an object.
  async signIn(appKey, mobile, state, decision = 'approve') {
    const lang = { 'accept-language': 'en-US,en;q=0.9' };
    const page1 = await fetch(this.authorizeUrl(appKey, state), { headers: lang, signal: AbortSignal.timeout(20000) });
    const cookie = page1.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('dingdir_csrf='));
    if (page1.status !== 200 || !cookie) throw new Error(`authorize page: ${page1.status}, cookie ${cookie}`);
    const signin = hiddenFields(await page1.text(), '/oauth2/auth/signin');
    const page2 = await post(`${this.base}/oauth2/auth/signin`, { ...signin, mobile, password: C.PASSWORD }, cookie, lang);
    const consent = hiddenFields(await page2.text(), '/oauth2/auth/consent');
    const done = await post(`${this.base}/oauth2/auth/consent`, { ...consent, decision }, cookie, lang);
    const location = done.headers.get('location') || '';
    if (done.status !== 302 || !location.startsWith(`${C.REDIRECT_URI}?`)) {
      throw new Error(`consent answered ${done.status} to ${location}`);
    }
    return Object.fromEntries(new URL(location).searchParams);
  }

  async code(appKey, who, state = 'st-1') {
    const q = await this.signIn(appKey, C.MOBILE[who], state);
    eq(q.state, state, 'state echoed on the redirect');
    eq(q.authCode, q.code, 'authCode equals code on the redirect');
    return q.code;
  }
}

function post(url, fields, cookie, headers) {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { ...headers, cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    signal: AbortSignal.timeout(20000),
  });
}

// The hidden fields of the form posting to `action`.
function hiddenFields(page, action) {
  const start = page.indexOf(`action="${action}"`);
  if (start < 0) throw new Error(`no form posting to ${action} on: ${page.slice(0, 300)}`);
  const form = page.slice(start, page.indexOf('</form>', start));
  const fields = {};
  for (const m of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[m[1]] = m[2];
  return fields;
}

// ---------------------------------------------------------------- the real browser

// Where the browser drivers find Chromium and put their screenshots, and how they start it.
const CHROMIUM = process.env.DINGDIR_COMPAT_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = process.env.DINGDIR_ARTIFACTS || require('node:path').join(__dirname, '..', '..', 'artifacts');
const LAUNCH_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

// Headless Chromium through playwright-core (required here only when a browser driver asks).
async function launchChromium() {
  const { chromium } = require('playwright-core');
  console.log('playwright-core', require('playwright-core/package.json').version, 'chromium', CHROMIUM);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS, timeout: 60000 });
  console.log('browser', browser.version());
  return browser;
}

// A full-page screenshot of `page` into the artifacts.
async function screenshot(page, file) {
  const fs = require('node:fs');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: require('node:path').join(ARTIFACTS, file), fullPage: true });
}

module.exports = { C, Checks, Dingdir, eq, ne, matches, rejects, parseArgs, ARTIFACTS, launchChromium, screenshot };
