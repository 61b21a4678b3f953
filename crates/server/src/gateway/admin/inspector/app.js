// The inspector: the directory at a glance, the fault rules, the inbox as chats, and the journal
// as it grows. Every value reaches the page through textContent, never as markup: journal
// entries and messages carry what clients sent.
'use strict';

const JOURNAL_ROWS = 200;

function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text === undefined || text === null ? '' : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

async function get(path, signal) {
  const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' }, signal });
  const body = await res.json().catch(() => null);
  return { status: res.status, body };
}

function status(text) {
  document.getElementById('status').textContent = text;
}

async function showDirectory() {
  const { status: code, body } = await get('/_dingdir/glance');
  if (code !== 200) throw new Error(`glance answered ${code}`);
  document.getElementById('directory-totals').textContent =
    `${body.corp_count} corps, ${body.app_count} apps, ${body.people} people`;
  const corps = document.querySelector('#corps tbody');
  corps.replaceChildren();
  for (const c of body.corps) {
    const tr = document.createElement('tr');
    cell(tr, c.name); cell(tr, c.id); cell(tr, c.members, 'n'); cell(tr, c.departments, 'n');
    corps.appendChild(tr);
  }
  for (const c of body.corps) inbox.corps.set(c.id, c.name);
  for (const a of body.apps) inbox.apps.set(a.key, a.name);
  const apps = document.querySelector('#apps tbody');
  apps.replaceChildren();
  for (const a of body.apps) {
    const tr = document.createElement('tr');
    cell(tr, a.name); cell(tr, a.key); cell(tr, a.kind); cell(tr, a.corp || '');
    apps.appendChild(tr);
  }
}

function describeMatch(rule) {
  const parts = [];
  for (const k of ['endpoint', 'app', 'corp', 'user']) if (rule[k]) parts.push(`${k}=${rule[k]}`);
  for (const [k, v] of Object.entries(rule.params || {})) parts.push(`${k}=${v}`);
  return parts.length ? parts.join(' ') : 'every request';
}

function describeAction(a) {
  switch (a.kind) {
    case 'errcode': return `errcode ${a.errcode}${a.errmsg ? ` ${a.errmsg}` : ''}`;
    case 'error': return `HTTP ${a.status} ${a.code}`;
    case 'delay': return `delay ${a.ms} ms`;
    default: return a.kind;
  }
}

function describeFire(f) {
  if (f === 'always' || f === undefined) return 'always';
  if (f.next !== undefined) return `next ${f.next}`;
  if (f.after !== undefined) return `after ${f.after}`;
  if (f.probability) return `p=${f.probability.p} seed=${f.probability.seed}`;
  return JSON.stringify(f);
}

async function showFaults() {
  const { status: code, body } = await get('/_dingdir/faults');
  if (code !== 200) throw new Error(`faults answered ${code}`);
  const tbody = document.querySelector('#faults tbody');
  tbody.replaceChildren();
  for (const r of body.faults) {
    const tr = document.createElement('tr');
    cell(tr, r.id, 'n'); cell(tr, describeMatch(r)); cell(tr, describeAction(r.action));
    cell(tr, describeFire(r.fire)); cell(tr, r.matched, 'n'); cell(tr, r.fired, 'n');
    tbody.appendChild(tr);
  }
  document.getElementById('faults-empty').hidden = body.faults.length > 0;
}

function journalRow(e) {
  const tr = document.createElement('tr');
  tr.dataset.seq = e.seq;
  cell(tr, e.seq, 'n');
  cell(tr, new Date(e.at_ms).toLocaleTimeString());
  cell(tr, e.endpoint || e.path);
  cell(tr, e.app || '');
  cell(tr, e.status, 'n');
  const code = e.code === undefined || e.code === null ? '' : e.code;
  cell(tr, e.fault ? `${code} (fault ${e.fault.id})` : code, code !== '' && code !== '0' ? 'bad' : undefined);
  cell(tr, (e.duration_us / 1000).toFixed(1), 'n');
  return tr;
}

function addEntries(entries) {
  const tbody = document.querySelector('#journal tbody');
  for (const e of entries) {
    if (tbody.querySelector(`tr[data-seq="${Number(e.seq)}"]`)) continue;
    tbody.insertBefore(journalRow(e), tbody.firstChild);
  }
  while (tbody.rows.length > JOURNAL_ROWS) tbody.deleteRow(tbody.rows.length - 1);
}

async function followJournal() {
  const { status: code, body } = await get(`/_dingdir/journal?limit=${JOURNAL_ROWS}`);
  if (code === 409 || (body && body.code === 'Disabled')) {
    document.getElementById('journal-off').hidden = false;
    document.getElementById('journal-live').textContent = 'off';
    return;
  }
  if (code !== 200) throw new Error(`journal answered ${code}`);
  addEntries(body.entries);
  const last = body.entries.length ? body.entries[body.entries.length - 1].seq : 0;
  const live = document.getElementById('journal-live');
  const source = new EventSource(`/_dingdir/journal/follow?after=${last}`);
  source.addEventListener('open', () => { live.textContent = 'live'; live.classList.add('on'); });
  source.addEventListener('error', () => { live.textContent = 'reconnecting'; live.classList.remove('on'); });
  source.addEventListener('entry', (ev) => addEntries([JSON.parse(ev.data)]));
}

// ---------------------------------------------------------------- messages

const CHAT_KEEP = 300; // messages kept per conversation
const FOLLOW_WAIT_MS = 25000;
const SENDER_KINDS = { webhook_robot: 'webhook robot', app_robot: 'app robot', person: 'person', work_notice: 'work notice' };

const inbox = {
  conversations: new Map(), // `${corp}\n${conversation}` -> its messages and what the list shows
  items: new Map(), // the same key -> its <li> in the list
  names: new Map(), // `${corp}\n${userid}` -> the name the person wrote under
  apps: new Map(), // app key -> name (the glance)
  corps: new Map(), // corp id -> name (the glance)
  selected: null,
  last: 0,
};

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function add(parent, tag, cls, text) {
  const e = el(tag, cls, text);
  parent.appendChild(e);
  return e;
}

function str(v) {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function when(ms) {
  const d = new Date(ms);
  return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
}

// `single:{app}:{userid}`, `notice:{app}:{userid}`, or a group's name.
function parseConversation(name) {
  const m = /^(single|notice):([^:]+):(.+)$/.exec(name);
  return m ? { kind: m[1], app: m[2], user: m[3] } : { kind: 'group' };
}

function label(conv) {
  const p = parseConversation(conv.name);
  if (p.kind === 'group') return conv.name;
  if (p.kind === 'notice') return `Work notice → ${p.user}`;
  const person = inbox.names.get(`${conv.corp}\n${p.user}`) || p.user;
  return `${person} ↔ ${inbox.apps.get(p.app) || conv.appName || p.app}`;
}

function sublabel(conv) {
  const corp = inbox.corps.get(conv.corp) || conv.corp;
  const p = parseConversation(conv.name);
  if (p.kind === 'group') return `group · ${corp}`;
  if (p.kind === 'notice') return `${inbox.apps.get(p.app) || conv.appName || p.app} · ${conv.name}`;
  return conv.name;
}

// A link only to http(s); anything else stays text.
function safeHref(u) {
  try {
    const url = new URL(String(u));
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch (_) {
    return null;
  }
}

function linkOrText(parent, cls, text, href) {
  const safe = href ? safeHref(href) : null;
  const e = add(parent, safe ? 'a' : 'span', cls, text);
  if (safe) { e.href = safe; e.target = '_blank'; e.rel = 'noopener noreferrer'; }
  if (href) e.title = str(href);
  return e;
}

function para(body, cls, text) {
  if (str(text) !== '') add(body, 'p', cls, str(text));
}

function pre(body, text) {
  if (str(text) !== '') add(body, 'pre', null, str(text));
}

function url(body, u) {
  if (str(u) !== '') { const p = add(body, 'p', 'url'); linkOrText(p, null, str(u), str(u)); }
}

function buttons(body, list) {
  const shown = list.filter((b) => str(b.title) !== '');
  if (!shown.length) return;
  const row = add(body, 'div', 'buttons');
  for (const b of shown) linkOrText(row, null, str(b.title), b.url ? str(b.url) : null);
}

function media(body, kind, id, extra) {
  if (str(id) === '' && !extra) return;
  para(body, 'media', `${kind} ${str(id)}${extra ? ` · ${extra}` : ''}`);
}

// The buttons of an action card, whichever way the sender spelled them.
function cardButtons(c) {
  const list = [];
  if (c.singleTitle) list.push({ title: c.singleTitle, url: c.singleURL });
  if (c.single_title) list.push({ title: c.single_title, url: c.single_url });
  for (const b of Array.isArray(c.btns) ? c.btns : []) list.push({ title: b && b.title, url: b && b.actionURL });
  let btnList = c.btn_json_list;
  if (typeof btnList === 'string') { try { btnList = JSON.parse(btnList); } catch (_) { btnList = []; } }
  for (const b of Array.isArray(btnList) ? btnList : []) list.push({ title: b && b.title, url: b && b.action_url });
  for (let i = 1; i <= 6; i += 1) {
    if (c[`actionTitle${i}`]) list.push({ title: c[`actionTitle${i}`], url: c[`actionURL${i}`] });
    if (c[`buttonTitle${i}`]) list.push({ title: c[`buttonTitle${i}`], url: c[`buttonUrl${i}`] });
  }
  return list;
}

// A readable body for each message type; compact JSON for anything else.
function messageBody(m) {
  const body = el('div', 'body');
  const c = m.content && typeof m.content === 'object' && !Array.isArray(m.content) ? m.content : null;
  const t = m.msgtype || '';
  if (c) {
    if (t === 'text' || t === 'sampleText') {
      para(body, 'text', c.content);
    } else if (t === 'markdown' || t === 'sampleMarkdown') {
      para(body, 'title', c.title); pre(body, c.text);
    } else if (t === 'link' || t === 'sampleLink') {
      para(body, 'title', c.title); para(body, 'text', c.text); url(body, c.messageUrl || c.messageURL);
      media(body, 'picture', c.picUrl || c.picURL);
    } else if (t === 'actionCard' || t === 'action_card' || t.startsWith('sampleActionCard')) {
      para(body, 'title', c.title); pre(body, c.text !== undefined ? c.text : c.markdown); buttons(body, cardButtons(c));
    } else if (t === 'feedCard') {
      for (const l of Array.isArray(c.links) ? c.links : []) {
        if (!l) continue;
        para(body, 'title', l.title); url(body, l.messageURL || l.messageUrl);
      }
    } else if (t === 'image') {
      media(body, 'image', c.media_id);
    } else if (t === 'sampleImageMsg') {
      media(body, 'image', c.photoURL);
    } else if (t === 'file') {
      media(body, 'file', c.media_id);
    } else if (t === 'sampleFile') {
      media(body, 'file', c.mediaId, [c.fileName, c.fileType].filter(Boolean).join(' '));
    } else if (t === 'voice') {
      media(body, 'voice', c.media_id, c.duration !== undefined ? `${str(c.duration)} s` : '');
    } else if (t === 'sampleAudio') {
      media(body, 'voice', c.mediaId, c.duration !== undefined ? `${str(c.duration)} ms` : '');
    } else if (t === 'sampleVideo') {
      media(body, 'video', c.videoMediaId, [c.duration !== undefined ? `${str(c.duration)} s` : '',
        c.picMediaId ? `cover ${str(c.picMediaId)}` : ''].filter(Boolean).join(' · '));
    } else if (t === 'oa') {
      const b = c.body && typeof c.body === 'object' ? c.body : {};
      para(body, 'title', b.title || (c.head && c.head.text)); para(body, 'text', b.content);
      url(body, c.message_url);
    }
  }
  if (!body.childNodes.length) pre(body, JSON.stringify(m.content === undefined ? null : m.content));
  return body;
}

// One line for the conversation list.
function summary(m) {
  const c = m.content && typeof m.content === 'object' ? m.content : {};
  const text = str(c.content || c.title || (c.body && c.body.title) || '') || `[${m.msgtype}]`;
  return `${m.recalled_at ? '(recalled) ' : ''}${m.sender ? `${m.sender}: ` : ''}${text}`.replace(/\s+/g, ' ');
}

function mentions(m) {
  const a = m.mentions;
  if (!a || typeof a !== 'object') return '';
  const who = [];
  if (a.isAtAll === true || a.isAtAll === 'true') who.push('@all');
  for (const k of ['atUserIds', 'atMobiles']) for (const v of Array.isArray(a[k]) ? a[k] : []) who.push(`@${str(v)}`);
  if (a.atRobot) who.push(`@robot ${str(a.atRobot)}`);
  return who.join(' ');
}

function setMarks(li, m) {
  const marks = li.querySelector('.marks');
  marks.replaceChildren();
  li.classList.toggle('recalled', Boolean(m.recalled_at));
  if (m.recalled_at) {
    add(marks, 'span', 'mark recalled', 'recalled').title = `recalled at ${when(m.recalled_at)}`;
  }
  if (m.read_at) {
    add(marks, 'span', 'mark read', 'read').title = `read at ${when(m.read_at)}`;
  } else if (m.person && m.sender_kind !== 'person') {
    add(marks, 'span', 'mark', 'unread');
  }
}

function bubble(m) {
  const li = el('li', m.sender_kind === 'person' ? 'bubble mine' : 'bubble');
  li.dataset.seq = String(Number(m.seq));
  const meta = add(li, 'div', 'meta');
  add(meta, 'span', 'who', m.sender || m.sender_id);
  add(meta, 'span', 'kind', SENDER_KINDS[m.sender_kind] || m.sender_kind);
  const t = add(meta, 'time', null, when(m.at));
  t.dateTime = new Date(m.at).toISOString();
  add(meta, 'span', 'marks');
  li.appendChild(messageBody(m));
  const at = mentions(m);
  if (at) add(li, 'div', 'mentions', at);
  setMarks(li, m);
  return li;
}

function nearBottom(log) {
  return log.scrollHeight - log.scrollTop - log.clientHeight < 48;
}

function showThread() {
  const conv = inbox.conversations.get(inbox.selected);
  const log = document.getElementById('chat');
  log.replaceChildren();
  if (!conv) return;
  document.getElementById('chat-title').textContent = label(conv);
  document.getElementById('chat-id').textContent = sublabel(conv);
  for (const m of conv.messages) log.appendChild(bubble(m));
  log.scrollTop = log.scrollHeight;
}

function select(key) {
  inbox.selected = key;
  for (const [k, li] of inbox.items) li.firstChild.setAttribute('aria-current', String(k === key));
  showThread();
}

function listItem(key) {
  let li = inbox.items.get(key);
  if (li) return li;
  li = el('li');
  const button = add(li, 'button');
  button.type = 'button';
  const top = add(button, 'span', 'label');
  add(top, 'span', 'name');
  add(top, 'time', 'when');
  add(button, 'span', 'sub');
  add(button, 'span', 'preview');
  button.addEventListener('click', () => select(key));
  inbox.items.set(key, li);
  return li;
}

// The list, newest activity first; items are kept and moved, not remade.
function showConversations() {
  const ul = document.getElementById('conversations');
  const convs = [...inbox.conversations.values()].sort((a, b) => b.lastSeq - a.lastSeq);
  convs.forEach((conv, i) => {
    const li = listItem(conv.key);
    const button = li.firstChild;
    const last = conv.messages[conv.messages.length - 1];
    button.querySelector('.name').textContent = label(conv);
    button.querySelector('.when').textContent = last ? when(last.at) : '';
    button.querySelector('.sub').textContent = `${sublabel(conv)} · ${conv.count} message${conv.count === 1 ? '' : 's'}`;
    button.querySelector('.preview').textContent = last ? summary(last) : '';
    button.setAttribute('aria-current', String(conv.key === inbox.selected));
    if (ul.children[i] !== li) ul.insertBefore(li, ul.children[i] || null);
  });
  document.getElementById('messages-empty').hidden = convs.length > 0;
  document.getElementById('chat-pane').hidden = convs.length === 0;
  const conv = inbox.conversations.get(inbox.selected);
  if (conv) {
    document.getElementById('chat-title').textContent = label(conv);
    document.getElementById('chat-id').textContent = sublabel(conv);
  }
}

// Adds what the inbox answered; `pick`: select the newest conversation when none is.
function addMessages(messages, pick) {
  const log = document.getElementById('chat');
  const follow = nearBottom(log);
  let appended = false;
  for (const m of messages) {
    const seq = Number(m.seq);
    if (!(seq > inbox.last)) continue;
    inbox.last = seq;
    const key = `${m.corp_id}\n${m.conversation}`;
    let conv = inbox.conversations.get(key);
    if (!conv) {
      conv = { key, corp: m.corp_id, name: m.conversation, messages: [], bySeq: new Map(), lastSeq: 0, count: 0, appName: null };
      inbox.conversations.set(key, conv);
    }
    if (m.sender_kind === 'person' && m.sender) inbox.names.set(`${m.corp_id}\n${m.sender_id}`, m.sender);
    if (m.sender_kind === 'app_robot' || m.sender_kind === 'work_notice') conv.appName = m.sender;
    conv.messages.push(m);
    conv.bySeq.set(seq, m);
    conv.lastSeq = seq;
    conv.count += 1;
    while (conv.messages.length > CHAT_KEEP) {
      const gone = conv.messages.shift();
      conv.bySeq.delete(Number(gone.seq));
      if (key === inbox.selected && log.firstChild) log.removeChild(log.firstChild);
    }
    if (key === inbox.selected) { log.appendChild(bubble(m)); appended = true; }
  }
  showConversations();
  if (pick && inbox.selected === null && inbox.conversations.size) {
    // The first time the page is up to date: the conversation with the newest message.
    const newest = [...inbox.conversations.values()].reduce((a, b) => (b.lastSeq > a.lastSeq ? b : a));
    select(newest.key);
    return;
  }
  if (appended && follow) log.scrollTop = log.scrollHeight;
}

// A loop of long polls: what is there first, then each message as it arrives.
async function followInbox() {
  const live = document.getElementById('messages-live');
  let caughtUp = false;
  let failures = 0;
  for (;;) {
    const wait = caughtUp ? FOLLOW_WAIT_MS : 0;
    let answer = null;
    try {
      answer = await get(`/_dingdir/inbox?after=${inbox.last}&limit=500&wait_ms=${wait}`,
        AbortSignal.timeout(wait + 15000));
    } catch (_) {
      answer = null;
    }
    if (answer && answer.status === 200 && answer.body && Array.isArray(answer.body.messages)) {
      failures = 0;
      if (answer.body.next_cursor === undefined || answer.body.next_cursor === null) caughtUp = true;
      addMessages(answer.body.messages, caughtUp);
      if (caughtUp) { live.textContent = 'following'; live.classList.add('on'); }
    } else {
      failures += 1;
      live.textContent = answer && (answer.status === 401 || answer.status === 403) ? 'signed out' : 'reconnecting';
      live.classList.remove('on');
      await sleep(Math.min(1000 * 2 ** Math.min(failures, 4), 10000));
    }
  }
}

// Reads and recalls change messages already shown: the open conversation is read again.
async function refreshMarks() {
  const conv = inbox.conversations.get(inbox.selected);
  if (!conv || !conv.messages.length) return;
  const q = new URLSearchParams({ conversation: conv.name, after: String(Number(conv.messages[0].seq) - 1), limit: '1000' });
  const { status: code, body } = await get(`/_dingdir/inbox?${q}`);
  if (code !== 200) throw new Error(`inbox answered ${code}`);
  let changed = false;
  for (const m of body.messages) {
    const known = m.corp_id === conv.corp ? conv.bySeq.get(Number(m.seq)) : undefined;
    if (!known || (known.read_at === m.read_at && known.recalled_at === m.recalled_at)) continue;
    known.read_at = m.read_at;
    known.recalled_at = m.recalled_at;
    changed = true;
    if (inbox.selected !== conv.key) continue;
    const li = document.querySelector(`#chat li[data-seq="${Number(m.seq)}"]`);
    if (li) setMarks(li, known);
  }
  if (changed) showConversations();
}

async function main() {
  try {
    await Promise.all([showDirectory(), showFaults(), followJournal()]);
    followInbox();
    status(`up to date at ${new Date().toLocaleTimeString()}`);
  } catch (e) {
    status(`could not load: ${e.message}`);
    return;
  }
  setInterval(async () => {
    try {
      await Promise.all([showFaults(), showDirectory(), refreshMarks()]);
      status(`up to date at ${new Date().toLocaleTimeString()}`);
    } catch (e) {
      status(`could not refresh: ${e.message}`);
    }
  }, 2000);
}

document.addEventListener('DOMContentLoaded', main);
