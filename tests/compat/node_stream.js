#!/usr/bin/env node
// Referee: the official Node SDK `dingtalk-stream` (Stream mode), unmodified.
//
// Usage: node node_stream.js HOST:PORT ADMIN_TOKEN   (a `dingdir dev` server, demo directory,
//        started with --stream-ack-timeout-ms 1000 --stream-later-ms 300 --stream-ping-ms 500)
//
// The SDK's gateway URL is a constant (https://api.dingtalk.com/v1.0/gateway/connections/open);
// the one change made for the test is the axios interceptor in `pointSdkAt` below. Everything
// else — the WebSocket, the pings, the acks, the reconnects — is the SDK's own code. The client
// is the demo's internal app, which may read Demo Co's contacts and so gets its change events;
// the writes that cause them go through a writer app this driver seeds. An event's data is the
// Stream-mode body (docs/wire/stream.md §4): {"timeStamp": "<eventBornTime>", "userId": [...]}.
'use strict';

const path = require('node:path');
const { Checks, Dingdir, eq, ne, matches, parseArgs, C } = require('./compat_common.js');

// ---------------------------------------------------------------- the smallest shim

// Points the unmodified SDK at dingdir: an axios request interceptor, on the axios module the
// SDK itself resolves, that rewrites https://api.dingtalk.com to http://HOST:PORT. The second
// line inside is this driver's own safety rule (nothing leaves 127.0.0.1), not needed by the SDK.
function pointSdkAt(hostport) {
  const sdkDir = path.dirname(require.resolve('dingtalk-stream'));
  const axios = require(require.resolve('axios', { paths: [sdkDir] }));
  axios.interceptors.request.use((config) => {
    config.url = String(config.url).replace(/^https:\/\/api\.dingtalk\.com(?=\/)/, `http://${hostport}`);
    if (!config.url.startsWith(`http://${hostport}/`)) throw new Error(`refusing to send the SDK to ${config.url}`);
    return config;
  });
}

// ---------------------------------------------------------------- helpers

const APP = 'dingdemointernal';
const WRITER = { key: 'dingnodewriter', secret: 'node-writer-secret' };
const WRITER_SEED = `apps:
  - key: ${WRITER.key}
    name: Node Writer
    type: internal
    secret: ${WRITER.secret}
    corp: ${C.DEMO_CO}
    scopes: [qyapi_get_member, qyapi_get_department_list, qyapi_manage_addresslist]
`;
const HEX32 = /^[0-9a-f]{32}$/;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls `probe` until it returns a truthy value (returned) or `ms` pass (throws naming `what`).
async function waitFor(what, ms, probe, every = 50) {
  const until = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() >= until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

class Env {
  constructor(dd) {
    this.dd = dd;
    this.events = []; // every EVENT the listener saw: {headers, data, at}
    this.laterOnce = new Set(); // user ids whose first event is answered LATER
    this.latered = new Set(); // event ids already answered LATER
    this.mobile = 13912340000;
  }

  // The listener the SDK calls; synchronous, since the SDK acks with JSON.stringify of the
  // value it returns (a Promise would become "{}").
  listener(EventAck) {
    return (msg) => {
      let data;
      try {
        data = JSON.parse(msg.data);
      } catch {
        data = { unparsed: msg.data };
      }
      this.events.push({ headers: { ...msg.headers }, data, at: Date.now() });
      const users = Array.isArray(data.userId) ? data.userId : [];
      const id = msg.headers.eventId;
      if (users.some((u) => this.laterOnce.has(u)) && !this.latered.has(id)) {
        this.latered.add(id);
        return { status: EventAck.LATER };
      }
      return { status: EventAck.SUCCESS };
    };
  }

  eventsFor(userid) {
    return this.events.filter((e) => Array.isArray(e.data.userId) && e.data.userId.includes(userid));
  }

  async writerToken() {
    if (!this.token) {
      const q = new URLSearchParams({ appkey: WRITER.key, appsecret: WRITER.secret });
      const res = await fetch(`${this.dd.base}/gettoken?${q}`, { signal: AbortSignal.timeout(20000) });
      const body = await res.json();
      if (!body.access_token) throw new Error(`gettoken for the writer: ${JSON.stringify(body)}`);
      this.token = body.access_token;
    }
    return this.token;
  }

  async oapi(op, body) {
    const url = `${this.dd.base}/topapi/v2/user/${op}?access_token=${await this.writerToken()}`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20000),
    });
    const text = await res.text();
    const answer = JSON.parse(text);
    if (res.status !== 200 || answer.errcode !== 0) throw new Error(`user/${op} answered ${res.status}: ${text}`);
    return answer;
  }

  createUser(userid, name = userid) {
    this.mobile += 1;
    return this.oapi('create', { userid, name, mobile: String(this.mobile), dept_id_list: '1' });
  }

  conns() {
    return this.dd.admin('GET', `/_dingdir/stream/connections?app_key=${APP}`).then((r) => r.connections);
  }

  delivery() {
    return this.dd.admin('GET', `/_dingdir/stream/attempts?app_key=${APP}`);
  }

  // The attempts for one event id, once the cursor has moved past it (so none is still to come).
  async settledAttempts(eventId, ms = 8000) {
    return waitFor(`the push of event ${eventId} to be acknowledged`, ms, async () => {
      const d = await this.delivery();
      const mine = d.attempts.filter((a) => a.event_id === eventId);
      if (!mine.length) return null;
      const seq = mine[0].seq;
      return d.delivered_seq !== null && d.delivered_seq >= seq ? { seq, attempts: mine, delivery: d } : null;
    });
  }

  // The one connection the app holds (waiting for exactly one, optionally other than `not`).
  async oneConnection(what, not, ms = 10000) {
    return waitFor(what, ms, async () => {
      const list = await this.conns();
      return list.length === 1 && list[0].id !== not && this.client.connected ? list[0] : null;
    });
  }
}

function checkEventShape(ev, type, userid, what) {
  const h = ev.headers;
  eq(h.eventType, type, `${what}: headers.eventType`);
  eq(h.eventCorpId, C.DEMO_CO, `${what}: headers.eventCorpId`);
  matches(HEX32, h.eventId, `${what}: headers.eventId`);
  eq(h.appId, APP, `${what}: headers.appId`);
  eq(h.topic, '*', `${what}: headers.topic`);
  matches(HEX32, h.messageId, `${what}: headers.messageId`);
  matches(/^[0-9]+$/, h.eventBornTime, `${what}: headers.eventBornTime`);
  eq(JSON.stringify(Object.keys(ev.data).sort()), '["timeStamp","userId"]', `${what}: data's keys`);
  eq(ev.data.timeStamp, h.eventBornTime, `${what}: data.timeStamp is eventBornTime`);
  eq(JSON.stringify(ev.data.userId), JSON.stringify([userid]), `${what}: data.userId`);
}

function errors(attempts) {
  return JSON.stringify(attempts.map((a) => (a.error === undefined ? null : a.error)));
}

// ---------------------------------------------------------------- checks

// 1. It connects: one connection for the app, subscribed to EVENT *, and `connected` is true.
async function check_connects(env) {
  const conn = await env.oneConnection('the SDK to connect', undefined, 8000);
  eq(env.client.connected, true, 'client.connected');
  eq(conn.app_key, APP, 'app_key');
  eq(conn.ua, '', 'ua (the SDK sends its config.ua, "" by default)');
  eq(JSON.stringify(conn.subscriptions), JSON.stringify([{ type: 'EVENT', topic: '*' }]), 'subscriptions');
  eq(conn.zombie, false, 'zombie');
  const wsUrl = String(env.client.dw_url);
  if (!wsUrl.startsWith(`ws://${env.dd.hostport}/connect?ticket=`)) throw new Error(`dw_url is ${wsUrl}`);
  env.firstConn = conn.id;
}

// 2. A create, an update and a delete arrive in order, each pushed and acknowledged once.
async function check_events_in_order(env) {
  const u = 'nodeu1';
  await env.createUser(u, 'N1');
  await env.oapi('update', { userid: u, name: 'N1b' });
  await env.oapi('delete', { userid: u });
  const evs = await waitFor('three events for nodeu1', 6000, () => (env.eventsFor(u).length >= 3 ? env.eventsFor(u) : null));
  eq(evs.length, 3, 'events for nodeu1');
  const types = ['user_add_org', 'user_modify_org', 'user_leave_org'];
  evs.forEach((ev, i) => checkEventShape(ev, types[i], u, `event ${i + 1}`));
  eq(new Set(evs.map((e) => e.headers.eventId)).size, 3, 'distinct eventIds');
  let seq = 0;
  for (const ev of evs) {
    const got = await env.settledAttempts(ev.headers.eventId);
    eq(errors(got.attempts), '[null]', `attempts of ${ev.headers.eventType} (seq ${got.seq})`);
    if (got.seq <= seq) throw new Error(`seq ${got.seq} of ${ev.headers.eventType} is not after ${seq}`);
    seq = got.seq;
  }
}

// 3. LATER: the first push is answered LATER, the same event comes again and then succeeds.
async function check_later(env) {
  const u = 'nodeu2';
  env.laterOnce.add(u);
  await env.createUser(u, 'N2');
  const evs = await waitFor('the event for nodeu2 twice', 6000, () => (env.eventsFor(u).length >= 2 ? env.eventsFor(u) : null));
  checkEventShape(evs[0], 'user_add_org', u, 'first push');
  checkEventShape(evs[1], 'user_add_org', u, 'second push');
  eq(evs[1].headers.eventId, evs[0].headers.eventId, 'the redelivery keeps eventId');
  ne(evs[1].headers.messageId, evs[0].headers.messageId, 'messageId of the redelivery');
  const got = await env.settledAttempts(evs[0].headers.eventId);
  eq(errors(got.attempts), '["LATER",null]', `attempts of seq ${got.seq}`);
  await sleep(400); // past the LATER delay: nothing more comes
  eq(env.eventsFor(u).length, 2, 'pushes of the event for nodeu2');
}

// 4. A disconnect notice: the SDK marks itself disconnected, reconnects once dingdir closes, and
//    an event written meanwhile arrives on the new connection.
async function check_disconnect_notice(env) {
  const before = await env.oneConnection('one connection before the notice', undefined, 5000);
  const told = await env.dd.admin('POST', '/_dingdir/stream/close', { app_key: APP, notice: 'test' });
  eq(told.cleared, 1, 'connections told to close');
  await waitFor('client.connected to turn false after the notice', 3000, () => env.client.connected === false, 10);
  const u = 'nodeu3';
  await env.createUser(u, 'N3');
  // dingdir closes 5 s (its disconnect grace) after the notice; the SDK redials 1 s later.
  const after = await env.oneConnection('a new connection after the notice', before.id, 10000);
  ne(after.id, before.id, 'connection id after the reconnect');
  const evs = await waitFor('the event for nodeu3', 5000, () => (env.eventsFor(u).length >= 1 ? env.eventsFor(u) : null));
  checkEventShape(evs[evs.length - 1], 'user_add_org', u, 'event for nodeu3');
  eq(evs[evs.length - 1].headers.connectionId, after.id, 'connectionId of the delivered push');
  const got = await env.settledAttempts(evs[0].headers.eventId);
  const last = got.attempts[got.attempts.length - 1];
  eq(last.error === undefined ? null : last.error, null, `last attempt of seq ${got.seq} (all: ${errors(got.attempts)})`);
}

// 5. A zombie: open, silent, closed after 1.5 s; the SDK reconnects and gets the event written
//    during the silence.
async function check_zombie(env) {
  const before = await env.oneConnection('one connection before the zombie', undefined, 5000);
  const z = await env.dd.admin('POST', `/_dingdir/stream/connections/${before.id}/zombie`, { for_ms: 1500 });
  eq(z && z.zombie, true, 'zombie flag in the answer');
  const u = 'nodeu4';
  await env.createUser(u, 'N4');
  const after = await env.oneConnection('a new connection after the zombie closes', before.id, 6000);
  ne(after.id, before.id, 'connection id after the reconnect');
  const evs = await waitFor('the event for nodeu4', 5000, () => (env.eventsFor(u).length >= 1 ? env.eventsFor(u) : null));
  eq(evs.length, 1, 'pushes of the event for nodeu4 the SDK saw (the zombie showed it none)');
  checkEventShape(evs[0], 'user_add_org', u, 'event for nodeu4');
  eq(evs[0].headers.connectionId, after.id, 'connectionId of the delivered push');
  const got = await env.settledAttempts(evs[0].headers.eventId);
  const last = got.attempts[got.attempts.length - 1];
  eq(last.error === undefined ? null : last.error, null, `last attempt of seq ${got.seq} (all: ${errors(got.attempts)})`);
}

// 7. Pings: the SDK echoes dingdir's SYSTEM pings (every 500 ms), counted per connection.
async function check_pings(env) {
  await waitFor('pings_answered >= 1 on the current connection', 4000, async () => {
    const list = await env.conns();
    return list.length === 1 && list[0].pings_answered >= 1;
  });
}

// 6. client.disconnect() leaves no connection, and the SDK does not come back.
async function check_disconnect(env) {
  env.client.disconnect();
  await waitFor('no connection for the app after disconnect()', 4000, async () => (await env.conns()).length === 0);
  await sleep(1500); // longer than the SDK's 1 s reconnect interval
  eq((await env.conns()).length, 0, 'connections 1.5 s after disconnect()');
  eq(env.client.connected, false, 'client.connected');
}

const CHECKS = [
  check_connects,
  check_events_in_order,
  check_later,
  check_disconnect_notice,
  check_zombie,
  check_pings,
  check_disconnect, // keep it last
];

async function main() {
  const [hostport, adminToken] = parseArgs('node node_stream.js HOST:PORT ADMIN_TOKEN');
  let running = 'the setup';
  const watchdog = setTimeout(() => {
    console.log(`driver timed out after 55 s, in ${running}`);
    process.exit(2);
  }, 55000);
  watchdog.unref();
  const sdkDir = path.dirname(require.resolve('dingtalk-stream'));
  const version = JSON.parse(require('node:fs').readFileSync(path.join(sdkDir, '..', 'package.json'), 'utf8')).version;
  console.log('dingtalk-stream', version);
  pointSdkAt(hostport);
  const { DWClient, EventAck } = require('dingtalk-stream');

  const env = new Env(new Dingdir(hostport, adminToken));
  await env.dd.applySeed(WRITER_SEED);
  await env.writerToken();
  env.client = new DWClient({ clientId: APP, clientSecret: C.SECRETS[APP], keepAlive: false });
  env.client.registerAllEventListener(env.listener(EventAck));
  env.client.connect(); // retries on its own; check_connects waits for it

  const checks = new Checks('node_stream');
  try {
    for (const check of CHECKS) {
      running = check.name;
      await checks.run(check.name, () => check(env));
    }
  } finally {
    if (env.client.connected) env.client.disconnect(); // after a failed check; the exit below ends any retry
  }
  checks.finish();
  // The SDK's socket is closed; leave at once rather than wait on stray timers.
  setTimeout(() => process.exit(process.exitCode), 200).unref();
}

main().catch((e) => {
  console.log('driver crashed:', e);
  process.exit(2);
});
