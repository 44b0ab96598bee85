// Devices (online/offline, battery, last seen, health) and the uplink: connected or
// down, the backlog per class, and the oldest pending age (GET /healthz, /api/outbox).
import { $, h, mount } from './dom.js';
import { formatAge, formatTime, t } from './i18n.js';
import { on, store } from './store.js';

export function initStatus() {
  on('devices', renderDevices);
  on('uplink', renderUplink);
}

export function render() {
  renderDevices();
  renderUplink();
}

function renderDevices() {
  const tz = store.config.timezone;
  mount($('#devices'), h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, ['devices.id', 'devices.kind', 'devices.unit', 'devices.online', 'devices.battery', 'devices.lastSeen', 'devices.health'].map((k) => h('th', {}, t(k))))),
    h('tbody', {}, store.devices.map((d) => h('tr', { 'data-device': d.id },
      h('td', { class: 'mono' }, d.id),
      h('td', {}, t(`kind.${d.kind}`)),
      h('td', {}, d.unit ?? '—'),
      h('td', {}, d.online === null ? h('span', { class: 'badge grey' }, t('device.unknown'))
        : h('span', { class: `badge ${d.online ? 'green' : 'red'}` }, t(d.online ? 'device.online' : 'device.offline'))),
      h('td', { class: d.batteryPct !== null && d.batteryPct < 20 ? 'warn' : '' }, d.batteryPct === null ? '—' : `${d.batteryPct}%`),
      h('td', {}, formatTime(d.lastSeenAt, tz)),
      h('td', {}, healthBadges(d.health)))))));
}

function healthBadges(health) {
  const badges = [];
  if (health.fault) badges.push(h('span', { class: 'badge red' }, `${t('health.fault')} ${health.fault}`));
  for (const key of ['tamper', 'batteryLow', 'endOfLife']) if (health[key]) badges.push(h('span', { class: 'badge amber' }, t(`health.${key}`)));
  return badges.length ? badges : '—';
}

function renderUplink() {
  const state = store.health?.upstream ?? 'down';
  const pill = $('#uplink-pill');
  pill.className = `pill ${state === 'connected' ? 'green' : state === 'none' ? 'grey' : state === 'stalled' ? 'amber' : 'red'}`;
  pill.textContent = `${t('uplink.label')}: ${t(`uplink.${state}`)}`;
  const outbox = store.outbox;
  if (!outbox) return mount($('#uplink'));
  const classes = Object.entries(outbox.classes);
  const pending = classes.reduce((n, [, c]) => n + c.pending, 0);
  const oldest = Math.max(0, ...classes.map(([, c]) => c.oldestAgeS));
  const dropped = Object.entries(outbox.dropped ?? {}).filter(([, n]) => n > 0);
  mount($('#uplink'),
    h('div', { class: 'uplink-summary' },
      h('div', { class: `pill big ${pill.className.split(' ')[1]}` }, pill.textContent),
      h('div', {}, `${t('uplink.pending')}: `, h('strong', {}, String(pending))),
      h('div', {}, `${t('uplink.oldest')}: `, h('strong', {}, pending ? formatAge(oldest) : '—')),
      h('div', {}, `${t('uplink.delivered')}: `, h('strong', {}, String(outbox.delivered ?? 0)))),
    h('table', { class: 'grid' },
      h('thead', {}, h('tr', {}, ['uplink.class', 'uplink.pending', 'uplink.oldest'].map((k) => h('th', {}, t(k))))),
      h('tbody', {}, classes.map(([name, c]) => h('tr', {},
        h('td', { class: 'mono' }, name), h('td', {}, String(c.pending)), h('td', {}, c.pending ? formatAge(c.oldestAgeS) : '—'))))),
    dropped.length ? h('p', { class: 'warn' }, `${t('uplink.dropped')}: `, dropped.map(([reason, n]) => `${reason} ${n}`).join(', ')) : null);
}
