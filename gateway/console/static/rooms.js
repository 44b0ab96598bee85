// Rooms: every unit with its occupancy, live codes (ids and validity only, never digits:
// invariant 7), and its state: suspended with the police reason, unsafe, or free. A stay,
// or the whole unit, can be checked out from here.
import { post } from './api.js';
import { $, h, mount } from './dom.js';
import { formatTime, t } from './i18n.js';
import { load, on, store } from './store.js';

/** A check-out button asks once more; the second click within 5 s does it. */
const CONFIRM_MS = 5_000;

export function initRooms() {
  on('units', render);
}

export function render() {
  const tz = store.config.timezone;
  mount($('#rooms'), h('table', { class: 'grid rooms' },
    h('thead', {}, h('tr', {}, ['form.unit', 'devices.online', 'rooms.occupants', 'rooms.codes'].map((k) => h('th', {}, t(k))))),
    h('tbody', {}, store.units.map((u) => {
      const stays = store.stays.filter((s) => s.unit === u.code);
      return h('tr', { 'data-unit': u.code },
        h('td', {}, h('div', { class: 'unit-code' }, u.code), h('div', { class: 'muted' }, u.address)),
        h('td', {}, unitState(u)),
        h('td', {},
          stays.length === 0 ? h('span', { class: 'muted' }, t('rooms.none')) : stays.map((s) => h('div', { class: 'stay' },
            h('strong', {}, s.name), ` ${formatTime(s.since, tz)} → ${formatTime(s.until, tz)} `,
            checkoutButton(t('action.checkout'), [s.stayId]))),
          stays.length > 1 ? checkoutButton(t('action.checkoutUnit'), stays.map((s) => s.stayId)) : null),
        h('td', { class: 'codes' }, u.liveCodes.length === 0 ? h('span', { class: 'muted' }, t('rooms.none')) : u.liveCodes.map((c) =>
          h('div', {}, h('span', { class: 'mono' }, c.codeId), ` ${c.lockId} · ${c.kind} · → ${formatTime(c.validTo, tz)}${c.uses === null ? '' : ` · ${t('code.uses')} ${c.uses}`}`))));
    }))));
}

function unitState(u) {
  const badges = [];
  if (u.suspended) badges.push(h('div', { class: 'badge red' }, `${t('unit.suspended')}: ${u.suspendReason ?? ''}`));
  if (!u.licensed) badges.push(h('div', { class: 'badge red' }, t('unit.unlicensed')));
  if (u.unsafe.length > 0) badges.push(h('div', { class: 'badge amber' }, `${t('unit.unsafe')}: ${u.unsafe.join(', ')}`));
  badges.push(u.occupants > 0 ? h('div', { class: 'badge blue' }, `${t('unit.occupied')} ${u.occupants}`) : h('div', { class: 'badge green' }, t('unit.free')));
  return badges;
}

function checkoutButton(label, stayIds) {
  let armed = null;
  const button = h('button', { class: 'small danger', onclick: async () => {
    if (!armed) {
      button.textContent = t('action.confirmCheckout');
      armed = setTimeout(() => { armed = null; button.textContent = label; }, CONFIRM_MS);
      return;
    }
    clearTimeout(armed);
    button.disabled = true;
    for (const stayId of stayIds) await post(`/api/stays/${encodeURIComponent(stayId)}/checkout`);
    await load('units');
  } }, label);
  return button;
}
