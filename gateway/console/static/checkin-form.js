// The check-in form and the decision (CHECKIN.md "The decision"): unit, booking or
// walk-in checkout, the guardian of a minor, the attendant override where policy allows
// it, a visitor of an open stay; then green with the code in large digits, or red with
// the reason in Chinese and English.
import { post, session } from './api.js';
import { $, h, mount } from './dom.js';
import { en, formatTime, t, zh } from './i18n.js';
import { load, on, store } from './store.js';

const OTHER_BOOKING = '__other__';
const WALK_IN = '';
let current = { read: null, bookings: null, decision: null };
let doneListener = () => {};

export function initForm(onDone) {
  on('units', fillUnits);
  doneListener = onDone;
}

/** After a language switch: the labels are rebuilt, and what the clerk typed is put back. */
export function rerenderForm() {
  const old = $('#cf');
  const saved = old ? [...old.elements].filter((e) => e.name).map((e) => [e.name, e.type === 'checkbox' ? e.checked : e.value]) : [];
  const guardianShown = old ? !$('#guardian').hidden : false;
  showForm(current.read, current.bookings);
  const form = $('#cf');
  if (!form) return;
  for (const [name, value] of saved) {
    const el = form.elements[name];
    if (el && el.type === 'checkbox') el.checked = value;
    else if (el) el.value = value;
  }
  form.dataset.mode = modeOf(form);
  if (guardianShown) $('#guardian').hidden = false;
}

/** 'ok' while a code is on screen, 'refused' after a refusal, or null. */
export function decisionShown() {
  return current.decision?.ok === true ? 'ok' : current.decision ? 'refused' : null;
}

/** Builds the form for a read; its bookings may still be on their way (setBookings). */
export function showForm(read, bookings) {
  const fresh = current.read?.readId !== read?.readId;
  current.read = read ?? null;
  current.bookings = bookings;
  if (fresh) current.decision = null;
  const form = $('#checkin-form');
  if (!read || read.used) {
    mount(form);
    return renderDecision();
  }
  mount(form, h('form', { id: 'cf', onsubmit: (e) => { e.preventDefault(); void checkIn(); } },
    h('div', { class: 'row' },
      field('booking.label', h('select', { name: 'booking', onchange: (e) => { e.currentTarget.dataset.touched = '1'; syncBooking(); } }, bookingOptions(bookings))),
      field('form.unit', h('select', { name: 'unit', required: true })),
      field('form.checkout', h('input', { name: 'expectedCheckout', type: 'datetime-local', value: tomorrowNoon() }), 'walkin-only'),
      field('form.bookingId', h('input', { name: 'bookingId', maxlength: 64, autocomplete: 'off' }), 'other-only')),
    guardianFields(read),
    store.config.attendantOverride ? overrideFields() : null,
    h('div', { class: 'row actions' },
      h('button', { class: 'big primary', type: 'submit', id: 'checkin-button' }, t('action.checkin')),
      visitorFields())));
  fillUnits();
  syncBooking();
  renderDecision();
}

/**
 * The read's bookings have arrived: only the booking list changes, so nothing the clerk
 * has typed or chosen meanwhile is lost. A match is preselected unless the clerk chose.
 */
export function setBookings(readId, bookings) {
  const form = $('#cf');
  if (!form || current.read?.readId !== readId) return;
  current.bookings = bookings;
  const select = form.booking;
  const chosen = select.value;
  mount(select, bookingOptions(bookings));
  select.value = select.dataset.touched || bookings.length === 0 ? chosen : bookings[0].bookingId;
  if (select.value !== chosen && !form.unit.value) syncBooking();
  else form.dataset.mode = modeOf(form);
}

function modeOf(form) {
  return form.booking.value === WALK_IN ? 'walkin' : form.booking.value === OTHER_BOOKING ? 'other' : 'booking';
}

function field(key, control, cls = '') {
  return h('label', { class: `field ${cls}` }, h('span', {}, t(key)), control);
}

function bookingOptions(bookings) {
  const options = (bookings ?? []).map((b) => h('option', { value: b.bookingId, 'data-unit': b.unit }, `${b.bookingId} · ${b.unit}`));
  if (store.config.walkIns) options.push(h('option', { value: WALK_IN }, t('booking.none')));
  options.push(h('option', { value: OTHER_BOOKING }, t('booking.other')));
  return options;
}

/** Units from GET /api/units; a suspended or unlicensed unit is shown but cannot be chosen. */
function fillUnits() {
  const select = $('#cf select[name=unit]');
  if (!select) return;
  const chosen = select.value;
  mount(select, h('option', { value: '' }, '—'), store.units.map((u) => {
    const blocked = u.suspended || !u.licensed;
    const note = u.suspended ? t('unit.suspended') : !u.licensed ? t('unit.unlicensed') : u.occupants > 0 ? `${t('unit.occupied')} ${u.occupants}` : t('unit.free');
    return h('option', { value: u.code, disabled: blocked }, `${u.code} (${note})`);
  }));
  select.value = chosen;
}

function syncBooking() {
  const form = $('#cf');
  if (!form) return;
  const option = form.booking.selectedOptions[0];
  form.dataset.mode = modeOf(form);
  if (option?.dataset.unit) form.unit.value = option.dataset.unit;
}

function guardianFields(read) {
  const minor = read.card.birth !== undefined && age(read.card.birth) < 18;
  return h('fieldset', { class: 'guardian', hidden: !minor, id: 'guardian' },
    h('legend', {}, t('form.minor')),
    h('div', { class: 'row' },
      field('guardian.name', h('input', { name: 'gName', maxlength: 64 })),
      field('guardian.phone', h('input', { name: 'gPhone', type: 'tel', maxlength: 32 })),
      field('guardian.relation', h('input', { name: 'gRelation', maxlength: 32 }))));
}

function overrideFields() {
  return h('fieldset', { class: 'override' },
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'useOverride' }), t('override.toggle')),
    field('override.reason', h('input', { name: 'overrideReason', minlength: 4, maxlength: 500 })),
    h('p', { class: 'hint' }, t('override.hint')));
}

function visitorFields() {
  const stays = store.stays;
  return h('div', { class: 'visitor' },
    field('visitor.host', h('select', { name: 'hostStay', disabled: stays.length === 0 },
      stays.length === 0 ? h('option', { value: '' }, t('visitor.none')) : stays.map((s) => h('option', { value: s.stayId }, `${s.unit} · ${s.name}`)))),
    h('button', { class: 'big secondary', type: 'button', disabled: stays.length === 0, onclick: () => void visit() }, t('action.visitor')));
}

function guardianOf(form) {
  if ($('#guardian').hidden) return undefined;
  const g = { name: form.gName.value.trim(), phone: form.gPhone.value.trim(), relation: form.gRelation.value.trim() };
  return g.name || g.phone || g.relation ? { guardian: g } : undefined;
}

async function checkIn() {
  const form = $('#cf');
  const body = { readId: current.read.readId, unit: form.unit.value, ...guardianOf(form) };
  if (form.dataset.mode === 'booking') body.bookingId = form.booking.value;
  if (form.dataset.mode === 'other') body.bookingId = form.bookingId.value.trim();
  if (form.dataset.mode === 'walkin' && form.expectedCheckout.value) body.expectedCheckout = new Date(form.expectedCheckout.value).toISOString();
  if (form.useOverride?.checked) body.override = { staffId: session.staffId, reason: form.overrideReason.value.trim() };
  await submit('/api/checkins', body, 'decision.ok');
}

async function visit() {
  const form = $('#cf');
  await submit('/api/visitors', { readId: current.read.readId, stayId: form.hostStay.value, ...guardianOf(form) }, 'decision.visitor');
}

async function submit(path, body, title) {
  const readId = current.read.readId;
  for (const b of document.querySelectorAll('#cf button')) b.disabled = true;
  const res = await post(path, body);
  if (current.read?.readId !== readId) return;
  for (const b of document.querySelectorAll('#cf button')) b.disabled = false;
  if (res.status === 201) current.decision = { ok: true, title, codes: res.body.codes, unit: body.unit ?? store.stays.find((s) => s.stayId === body.stayId)?.unit };
  else if (res.status === 422) current.decision = { ok: false, reason: res.body.reason, message: res.body.message };
  else current.decision = { ok: false, reason: res.body.error?.code ?? `HTTP ${res.status}`, message: res.body.error?.message ?? { zh: '请求失败', en: 'The request failed.' } };
  // Rule 11: the refusal itself says a guardian is needed, whatever the card's birth said.
  if (current.decision.reason === 'MINOR_NEEDS_GUARDIAN') $('#guardian').hidden = false;
  renderDecision();
  void load('units');
  void load('reads');
}

/** Green: the code in large digits and its validity. Red: the reason in both languages. */
function renderDecision() {
  const box = $('#decision');
  const d = current.decision;
  $('#checkin-form').hidden = d?.ok === true;
  if (!d) return mount(box);
  if (!d.ok) {
    return mount(box, h('div', { class: 'decision refused', role: 'alert' },
      h('div', { class: 'decision-head' }, `✖ ${zh('decision.refused')} · ${en('decision.refused')}`, h('span', { class: 'reason-code mono' }, d.reason)),
      h('p', { class: 'msg-zh', lang: 'zh-CN' }, d.message.zh),
      h('p', { class: 'msg-en', lang: 'en' }, d.message.en)));
  }
  const tz = store.config.timezone;
  mount(box, h('div', { class: 'decision accepted', role: 'status' },
    h('div', { class: 'decision-head' }, `✔ ${zh(d.title)} · ${en(d.title)}`, h('span', { class: 'decision-unit' }, d.unit ?? '')),
    d.codes.map((c) => h('div', { class: 'code-row' },
      h('span', { class: 'code-lock' }, `${t('code.lock')} ${c.lockId}`),
      h('span', { class: 'code mono', 'data-code': c.code }, c.code),
      h('div', { class: 'code-valid' },
        h('div', {}, `${t('code.valid')} ${formatTime(c.validFrom, tz)}`),
        h('div', {}, `→ ${formatTime(c.validTo, tz)}`),
        h('div', {}, `${t('code.uses')}: ${c.uses ?? t('code.unlimited')}`)))),
    d.codes.length === 0 ? h('p', { class: 'once' }, `${zh('code.none')} · ${en('code.none')}`) : h('p', { class: 'once' }, `${zh('code.once')} · ${en('code.once')}`),
    h('button', { class: 'big secondary', onclick: done }, t('action.done'))));
}

/** The digits leave the screen once the guest has them (invariant 7: shown once). */
function done() {
  current.decision = null;
  renderDecision();
  doneListener();
}

function tomorrowNoon() {
  const d = new Date();
  d.setDate(d.getDate() + 1);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T12:00`;
}

/** Completed years on the building's date, as rule 11 counts them. */
export function age(birth) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: store.config.timezone }).format(new Date());
  const years = Number(today.slice(0, 4)) - Number(birth.slice(0, 4));
  return today.slice(5) < birth.slice(5) ? years - 1 : years;
}
