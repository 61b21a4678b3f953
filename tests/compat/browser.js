#!/usr/bin/env node
// Referee: a real browser (Debian's Chromium, driven by playwright-core) walks the sign-in as a
// person would: types into the labelled fields, presses the buttons, consents, and lands on the
// app's redirect_uri with `code`, `authCode` and `state`. Screenshots of the sign-in and consent
// pages, on a phone and on a desktop, go to $DINGDIR_ARTIFACTS.
//
// Usage: node browser.js HOST:PORT ADMIN_TOKEN
// Env:   DINGDIR_COMPAT_CHROMIUM (default /usr/bin/chromium), DINGDIR_ARTIFACTS (screenshots)
// Prints one `code=<code>` line per approved sign-in; the Rust test exchanges each code with
// the official Python SDK (py_exchange.py). Exit status 0 when every check passed.
'use strict';

const { ARTIFACTS, C, Checks, Dingdir, eq, launchChromium, matches, parseArgs, screenshot } = require('./compat_common.js');

// The page's words in the two languages it speaks (by Accept-Language).
const WORDS = {
  'en-US': { mobile: 'Mobile number', password: 'Password', signIn: 'Sign in', allow: 'Allow', deny: 'Deny',
    consentHeading: /^Authorise Demo Internal App$/ },
  'zh-CN': { mobile: '手机号', password: '密码', signIn: '登录', allow: '同意授权', deny: '拒绝',
    consentHeading: /^授权 Demo Internal App$/ },
};

const DEVICES = [
  { name: 'desktop', locale: 'en-US', options: { viewport: { width: 1280, height: 800 } } },
  { name: 'phone', locale: 'zh-CN',
    options: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } },
];

class Session {
  constructor(dd, context, words) {
    this.dd = dd;
    this.context = context;
    this.words = words;
    this.page = null;
  }

  // A fresh tab per sign-in: the previous one may sit on Chromium's error page (see `decide`).
  async open(state) {
    if (this.page) await this.page.close();
    this.page = await this.context.newPage();
    const res = await this.page.goto(this.dd.authorizeUrl('dingdemointernal', state));
    eq(res.status(), 200, 'authorize page status');
  }

  async signIn(mobile, password) {
    const { page, words } = this;
    await page.getByLabel(words.mobile, { exact: true }).fill(mobile);
    await page.getByLabel(words.password, { exact: true }).fill(password);
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: words.signIn, exact: true }).click(),
    ]);
  }

  // Presses a consent button and returns the URL the browser was redirected to. Nothing serves
  // the app's redirect_uri and page.route does not see redirect targets, so this reads the
  // request the browser makes; the tab then shows Chromium's connection error page.
  async decide(button) {
    const [request] = await Promise.all([
      this.page.waitForRequest((r) => r.url().startsWith(`${C.REDIRECT_URI}?`)),
      this.page.getByRole('button', { name: button, exact: true }).click(),
    ]);
    eq(request.method(), 'GET', 'method of the redirect to the app');
    eq(request.isNavigationRequest(), true, 'the redirect is a top-level navigation');
    return new URL(request.url());
  }

  async shot(file) {
    await screenshot(this.page, file);
  }
}

async function check_wrong_password_stays_on_sign_in(s) {
  await s.open('wrong-pw');
  await s.signIn(C.MOBILE.zhangsan, 'not-the-password');
  const alert = s.page.getByRole('alert');
  if (!(await alert.isVisible())) throw new Error('no visible alert after a wrong password');
  eq(new URL(s.page.url()).pathname, '/oauth2/auth/signin', 'still on the sign-in form');
}

async function check_sign_in_and_consent_redirects_with_code(s, device) {
  const state = `browser-${device.name}`;
  await s.open(state);
  await s.shot(`signin-${device.name}.png`);
  await s.signIn(C.MOBILE.zhangsan, C.PASSWORD);
  const heading = s.page.getByRole('heading', { level: 1 });
  matches(s.words.consentHeading, (await heading.innerText()).trim(), 'consent heading');
  await s.shot(`consent-${device.name}.png`);
  const url = await s.decide(s.words.allow);
  eq(`${url.origin}${url.pathname}`, C.REDIRECT_URI, 'redirect target');
  const q = url.searchParams;
  matches(C.TOKEN_RE, q.get('code'), 'code');
  eq(q.get('authCode'), q.get('code'), 'authCode equals code');
  eq(q.get('state'), state, 'state echoed');
  console.log(`code=${q.get('code')}`);
}

async function check_deny_redirects_with_access_denied(s) {
  await s.open('deny-me');
  await s.signIn(C.MOBILE.zhangsan, C.PASSWORD);
  const q = (await s.decide(s.words.deny)).searchParams;
  eq(q.get('error'), 'access_denied', 'error');
  eq(q.get('state'), 'deny-me', 'state echoed');
  eq(q.get('code'), null, 'no code on deny');
}

const CHECKS = [
  check_wrong_password_stays_on_sign_in,
  check_sign_in_and_consent_redirects_with_code,
  check_deny_redirects_with_access_denied,
];

async function main() {
  const [hostport, adminToken] = parseArgs('node browser.js HOST:PORT ADMIN_TOKEN');
  const dd = new Dingdir(hostport, adminToken);
  const browser = await launchChromium();
  const checks = new Checks('browser');
  try {
    for (const device of DEVICES) {
      const context = await browser.newContext({ ...device.options, locale: device.locale });
      context.setDefaultTimeout(20000);
      const s = new Session(dd, context, WORDS[device.locale]);

      for (const check of CHECKS) {
        await checks.run(`${device.name} ${check.name}`, () => check(s, device));
      }
      await context.close();
    }
  } finally {
    await browser.close();
  }
  console.log(`screenshots in ${ARTIFACTS}`);
  checks.finish();
}

main().catch((e) => {
  console.log('driver crashed:', e);
  process.exit(2);
});
