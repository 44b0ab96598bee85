// The front-desk console's entry (issue 7): login, tabs, the live event stream and a
// slow poll that heals anything a dropped stream missed. Each screen is its own module.
import { get, login, loginByBadge, logout, session, subscribe, whenUnauthorized } from './api.js';
import { $ } from './dom.js';
import { currentLang, defaultLang, onLangChange, setLang, t } from './i18n.js';
import { loadAll, reload, store } from './store.js';
import * as checkin from './checkin.js';
import * as rooms from './rooms.js';
import * as status from './status.js';
import * as alarms from './alarms.js';

/** Uplink state and the age of pending events have no event of their own. */
const POLL_MS = 10_000;
const RESUBSCRIBE_MS = 5_000;

let stopEvents = null;
let poller = null;

function start() {
  setLang(currentLang());
  for (const b of document.querySelectorAll('.lang-toggle')) b.addEventListener('click', () => setLang(currentLang() === 'zh' ? 'en' : 'zh'));
  for (const b of document.querySelectorAll('[data-tab]')) b.addEventListener('click', () => showTab(b.dataset.tab));
  $('#login-form').addEventListener('submit', (e) => { e.preventDefault(); void onLogin(e.currentTarget); });
  $('#badge-login').addEventListener('click', () => void onLogin(null));
  $('#logout').addEventListener('click', async () => { await logout(); showLogin(); });
  whenUnauthorized(showLogin);
  checkin.initCheckin();
  rooms.initRooms();
  status.initStatus();
  alarms.initAlarms();
  onLangChange(() => { if (store.config) renderAll(); });
  if (session.loggedIn) void enter();
  else showLogin();
}

/** With a form, a password login; without, a login by the badge just swiped at this desk. */
async function onLogin(form) {
  const error = $('#login-error');
  error.textContent = '';
  const desk = new URLSearchParams(location.search).get('desk');
  const res = form ? await login(form.staffId.value.trim(), form.password.value) : await loginByBadge(desk);
  if (res.status !== 200) {
    error.textContent = res.body.error?.message?.[currentLang()] ?? `HTTP ${res.status}`;
    return;
  }
  if (form) form.password.value = '';
  await enter();
}

async function enter() {
  const res = await get('/api/config/console');
  if (res.status !== 200) return showLogin();
  // ?desk=desk-2 lets a second desk's PC open its own reads.
  const desk = new URLSearchParams(location.search).get('desk');
  store.config = { ...res.body, ...(desk ? { desk } : {}) };
  defaultLang(store.config.language);
  renderHeader();
  $('#login').hidden = true;
  $('#app').hidden = false;
  showTab('checkin');
  await loadAll();
  renderAll();
  connect();
  poller = setInterval(() => void loadAll().then(checkin.render), POLL_MS);
}

function connect() {
  const both = (...fns) => () => fns.forEach((fn) => fn());
  stopEvents = subscribe({
    read: reload.reads,
    verify: reload.reads,
    decision: both(reload.reads, reload.units),
    alarm: both(reload.alarms, reload.units),
    device: both(reload.devices, reload.units),
    unit: reload.units,
  }, () => {
    $('#live-down').hidden = true;
    void loadAll();
  }, (closed) => {
    $('#live-down').hidden = false;
    if (closed) retry();
  });
}

/** A refused stream is not retried by the browser: once the API answers again, reconnect (a 401 shows the login). */
function retry() {
  setTimeout(async () => {
    if (!session.loggedIn || !stopEvents) return;
    const res = await get('/api/config/console');
    if (res.status === 200 && stopEvents) {
      stopEvents();
      connect();
    } else if (res.status !== 401) retry();
  }, RESUBSCRIBE_MS);
}

function showLogin() {
  stopEvents?.();
  stopEvents = null;
  clearInterval(poller);
  store.config = null;
  $('#app').hidden = true;
  $('#alarm-overlay').hidden = true;
  $('#login').hidden = false;
  $('#login-form').staffId.focus();
}

function showTab(name) {
  for (const b of document.querySelectorAll('[data-tab]')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
  for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== `tab-${name}`;
}

function renderHeader() {
  $('#desk').textContent = `${t('app.desk')} ${store.config.desk}`;
  $('#staff').textContent = store.config.staffId ?? session.staffId ?? '';
}

function renderAll() {
  renderHeader();
  checkin.rerender();
  rooms.render();
  status.render();
  alarms.render();
}

start();
