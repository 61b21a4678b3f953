// The inspector: the directory at a glance, the fault rules, and the journal as it grows. Every
// value reaches the page through textContent, never as markup: journal entries carry what
// clients sent.
'use strict';

const JOURNAL_ROWS = 200;

function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text === undefined || text === null ? '' : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

async function get(path) {
  const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
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

async function main() {
  try {
    await Promise.all([showDirectory(), showFaults(), followJournal()]);
    status(`up to date at ${new Date().toLocaleTimeString()}`);
  } catch (e) {
    status(`could not load: ${e.message}`);
    return;
  }
  setInterval(async () => {
    try {
      await Promise.all([showFaults(), showDirectory()]);
      status(`up to date at ${new Date().toLocaleTimeString()}`);
    } catch (e) {
      status(`could not refresh: ${e.message}`);
    }
  }, 2000);
}

document.addEventListener('DOMContentLoaded', main);
