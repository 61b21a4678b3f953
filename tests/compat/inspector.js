#!/usr/bin/env node
// Referee: a real browser (Debian's Chromium, driven by playwright-core) uses the inspector page
// as a person would: signs in once with the admin token, sees the directory at a glance and the
// fault rules, watches a request it did not make arrive in the journal while the page is open,
// watches a robot's message arrive in the chat view, and stays signed in on a reload. Screenshots on a desktop and a phone go to $DINGDIR_ARTIFACTS.
//
// Usage: node inspector.js HOST:PORT ADMIN_TOKEN
// Env:   DINGDIR_COMPAT_CHROMIUM (default /usr/bin/chromium), DINGDIR_ARTIFACTS (screenshots)
'use strict';

const { ARTIFACTS, C, Checks, Dingdir, eq, launchChromium, parseArgs, screenshot } = require('./compat_common.js');

const DEVICES = [
  { name: 'desktop', options: { viewport: { width: 1280, height: 800 } } },
  { name: 'phone', options: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } },
];

const shot = screenshot;

async function check_wrong_token_is_refused_with_an_alert(dd, page) {
  await page.goto(`${dd.base}/_dingdir/inspector`);
  await page.getByLabel('Admin token', { exact: true }).fill('not-the-token');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
  const alert = page.getByRole('alert');
  if (!(await alert.isVisible())) throw new Error('no visible alert after a wrong token');
}

async function check_sign_in_shows_the_directory_and_the_rules(dd, page, device) {
  await page.goto(`${dd.base}/_dingdir/inspector`);
  await shot(page, `inspector-signin-${device.name}.png`);
  await page.getByLabel('Admin token', { exact: true }).fill(dd.adminToken);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
  eq(new URL(page.url()).pathname, '/_dingdir/inspector', 'landed on the page');
  const demo = page.getByRole('table', { name: 'Corps' }).getByRole('row').filter({ hasText: C.DEMO_CO });
  await demo.waitFor();
  const cells = await demo.getByRole('cell').allInnerTexts();
  eq(cells[0], 'Demo Co', 'the demo corp by name');
  const glance = await dd.admin('GET', '/_dingdir/glance');
  const want = glance.corps.find((c) => c.id === C.DEMO_CO);
  eq(cells[2], String(want.members), 'its members as the glance counts them');
  const app = page.getByRole('table', { name: 'Apps' }).getByRole('row').filter({ hasText: 'dingdemointernal' });
  eq((await app.getByRole('cell').allInnerTexts())[2], 'internal', 'the internal app type');
  const rule = page.getByRole('table', { name: 'Fault rules' }).getByRole('row').filter({ hasText: 'V2UserGetByMobile' });
  await rule.waitFor();
  eq((await rule.getByRole('cell').allInnerTexts())[2], 'errcode -1', 'the armed rule');
}

async function check_the_journal_shows_a_request_live(dd, page, device) {
  await page.getByText('live', { exact: true }).waitFor();
  const { access_token: token } = await (await fetch(
    `${dd.base}/gettoken?appkey=dingdemointernal&appsecret=${C.SECRETS.dingdemointernal}`)).json();
  const res = await fetch(`${dd.base}/topapi/v2/user/getbymobile?access_token=${token}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mobile: C.MOBILE.zhangsan }),
  });
  eq((await res.json()).errcode, -1, 'the armed rule answered the call');
  const row = page.getByRole('table', { name: 'Journal' }).getByRole('row').filter({ hasText: 'V2UserGetByMobile' }).first();
  await row.waitFor({ timeout: 10000 });
  const cells = await row.getByRole('cell').allInnerTexts();
  eq(cells[3], 'dingdemointernal', 'the caller');
  eq(cells[5].startsWith('-1 (fault '), true, `the code with the rule that fired: ${cells[5]}`);
  await shot(page, `inspector-${device.name}.png`);
}

// An app robot writes to zhangsan while the page is open: the chat appears without a reload,
// its text as sent (markup in it stays text), and zhangsan's answer names him in the list.
async function check_the_chat_view_shows_messages_live(dd, page, device) {
  await page.getByText('following', { exact: true }).waitFor();
  const token = await fetch(`${dd.base}/v1.0/oauth2/accessToken`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appKey: 'dingdemointernal', appSecret: C.SECRETS.dingdemointernal }),
  });
  const { accessToken } = await token.json();
  const send = async (content) => {
    const res = await fetch(`${dd.base}/v1.0/robot/oToMessages/batchSend`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-acs-dingtalk-access-token': accessToken },
      body: JSON.stringify({
        robotCode: 'dingdemointernal', userIds: ['zhangsan'], msgKey: 'sampleText', msgParam: JSON.stringify({ content }),
      }),
    });
    const body = await res.json();
    eq(res.status, 200, `batchSend answered ${JSON.stringify(body)}`);
  };
  const stamp = `${device.name} ${Date.now()}`;
  const plain = `部署完成 ${stamp}`;
  await send(plain);
  const conversations = page.getByRole('navigation', { name: 'Conversations' });
  const single = conversations.getByRole('button').filter({ hasText: 'single:dingdemointernal:zhangsan' });
  await single.waitFor({ timeout: 10000 });
  await single.click();
  eq(await single.getAttribute('aria-current'), 'true', 'the conversation is the one shown');
  const chat = page.getByRole('log', { name: 'Chat' });
  const bubble = chat.getByRole('listitem').filter({ hasText: plain });
  await bubble.waitFor({ timeout: 10000 });
  eq(await bubble.locator('.who').innerText(), 'Demo Internal App', 'the sender: the app');
  eq(await bubble.locator('.body').innerText(), plain, 'the text as sent');
  const hostile = `<img src=x onerror="document.title='pwned'"><b>bold</b> ${stamp}`;
  await send(hostile);
  const shown = chat.getByRole('listitem').filter({ hasText: hostile });
  await shown.waitFor({ timeout: 10000 });
  eq(await shown.locator('.body').innerText(), hostile, 'markup in a message is shown as its text');
  eq(await chat.locator('img, b').count(), 0, 'no element made from a message');
  eq(await page.title(), 'dingdir inspector', 'no handler from a message ran');
  const answer = `收到 ${stamp}`;
  await dd.admin('POST', '/_dingdir/chat', { app_key: 'dingdemointernal', from: 'zhangsan', text: answer });
  await chat.getByRole('listitem').filter({ hasText: answer }).waitFor({ timeout: 10000 });
  eq((await single.locator('.name').innerText()), '张三 ↔ Demo Internal App', 'the conversation by the person\'s name');
  await shot(page, `inspector-messages-${device.name}.png`);
}

async function check_a_reload_stays_signed_in(dd, page) {
  await page.reload();
  await page.getByRole('table', { name: 'Journal' }).waitFor();
  eq(await page.getByLabel('Admin token').count(), 0, 'no sign-in form after a reload');
}

async function main() {
  const [hostport, adminToken] = parseArgs('node inspector.js HOST:PORT ADMIN_TOKEN');
  const dd = new Dingdir(hostport, adminToken);
  const armed = await fetch(`${dd.base}/_dingdir/faults`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ endpoint: 'V2UserGetByMobile', action: { kind: 'errcode', errcode: -1 } }),
  });
  eq(armed.status, 201, 'arming the rule');
  const browser = await launchChromium();
  const checks = new Checks('inspector');
  try {
    for (const device of DEVICES) {
      const context = await browser.newContext(device.options);
      context.setDefaultTimeout(20000);
      const page = await context.newPage();
      for (const check of [
        check_wrong_token_is_refused_with_an_alert,
        check_sign_in_shows_the_directory_and_the_rules,
        check_the_journal_shows_a_request_live,
        check_the_chat_view_shows_messages_live,
        check_a_reload_stays_signed_in,
      ]) {
        await checks.run(`${device.name} ${check.name}`, () => check(dd, page, device));
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
