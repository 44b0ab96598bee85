// The check-in screen, left and top: the live card reads at this desk, and the selected
// read's guest (masked name and ID number), card validity, face score against the
// threshold, and the matched booking. The form and the decision are in checkin-form.js.
import { get } from './api.js';
import { $, h, mount } from './dom.js';
import { formatTime, t } from './i18n.js';
import { on, store } from './store.js';
import { age, decisionShown, initForm, rerenderForm, setBookings, showForm } from './checkin-form.js';

const state = { selected: null, newest: null, bookings: new Map() };

export function initCheckin() {
  // After "Done", the newest read is the next guest.
  initForm(() => {
    const newest = store.reads[0];
    if (newest && newest.readId !== state.selected && !newest.used) select(newest.readId);
  });
  on('reads', () => {
    autoSelect();
    render();
  });
  on('units', renderDetail);
}

export function render() {
  renderList();
  renderDetail();
}

export function rerender() {
  render();
  rerenderForm();
}

/** A new card on the reader is the next guest: show it, unless a code is still on screen. */
function autoSelect() {
  const newest = store.reads[0]?.readId ?? null;
  if (newest !== state.newest) {
    state.newest = newest;
    if (newest && decisionShown() !== 'ok') select(newest);
  }
  if (state.selected && !store.reads.some((r) => r.readId === state.selected)) state.selected = null;
}

function select(readId) {
  state.selected = readId;
  const read = store.reads.find((r) => r.readId === readId);
  if (!state.bookings.has(readId)) {
    state.bookings.set(readId, null);
    get(`/api/console/bookings?readId=${encodeURIComponent(readId)}`).then((res) => {
      state.bookings.set(readId, res.status === 200 ? res.body.bookings : []);
      if (state.selected === readId) {
        renderDetail();
        setBookings(readId, state.bookings.get(readId));
      }
    });
  }
  showForm(read, state.bookings.get(readId));
  render();
}

function renderList() {
  const list = $('#read-list');
  if (store.reads.length === 0) return mount(list, h('li', { class: 'empty' }, t('reads.empty')));
  mount(list, store.reads.map((r) => h('li', {},
    h('button', { class: `read${r.readId === state.selected ? ' selected' : ''}`, 'data-read-id': r.readId, onclick: () => select(r.readId) },
      h('span', { class: 'read-name' }, r.card.name ?? t('card.unsupported')),
      h('span', { class: 'read-id mono' }, r.card.idNumber ?? ''),
      h('span', { class: 'read-meta' }, formatTime(r.at, store.config.timezone, false), ' ', validityBadge(r.card), ' ', faceBadge(r), r.used ? h('span', { class: 'badge grey' }, t('read.used')) : null)))));
}

function renderDetail() {
  const box = $('#read-detail');
  const read = store.reads.find((r) => r.readId === state.selected);
  if (!read) return mount(box, h('p', { class: 'hint' }, t(store.reads.length ? 'select.read' : 'reads.empty')));
  const c = read.card;
  const ageS = (Date.now() - Date.parse(read.at)) / 1000;
  mount(box,
    h('div', { class: 'guest' },
      h('div', { class: 'guest-name' }, c.name ?? t('card.unsupported')),
      h('div', { class: 'guest-id mono' }, c.idNumber ?? c.docType),
      h('div', { class: 'guest-facts' },
        c.birth ? `${c.birth} · ${age(c.birth)} ${t('card.age')}` : null,
        ' ', validityBadge(c), ' ',
        c.validFrom ? h('span', { class: 'muted' }, `${c.validFrom} → ${c.validTo ?? t('card.noEnd')}`) : null,
        read.used ? h('span', { class: 'badge grey' }, t('read.used')) : null,
        !read.used && ageS > store.config.readMaxAgeS ? h('span', { class: 'badge red' }, t('read.stale')) : null)),
    faceMeter(read),
    bookingLine(read));
}

function faceMeter(read) {
  const v = read.verification;
  const threshold = store.config.faceThreshold;
  const label = h('div', { class: 'meter-label' }, t('face.label'));
  if (v.state !== 'received') return h('div', { class: 'face waiting' }, label, h('div', { class: 'meter-value' }, t('read.waiting')));
  const pass = v.liveness && v.score >= threshold;
  const fill = h('div', { class: `meter-fill ${pass ? 'green' : 'red'}` });
  fill.style.width = `${Math.round(v.score * 100)}%`;
  const mark = h('div', { class: 'meter-mark' });
  mark.style.left = `${Math.round(threshold * 100)}%`;
  return h('div', { class: `face ${pass ? 'pass' : 'fail'}` }, label,
    h('div', { class: 'meter-value' }, `${v.score.toFixed(2)} ${v.score >= threshold ? '≥' : '<'} ${threshold.toFixed(2)} `,
      h('strong', {}, pass ? t('face.pass') : t('face.fail')), v.liveness ? null : h('span', { class: 'badge red' }, t('face.liveness'))),
    h('div', { class: 'meter' }, fill, mark));
}

function bookingLine(read) {
  const bookings = state.bookings.get(read.readId);
  const label = h('div', { class: 'meter-label' }, t('booking.label'));
  if (bookings === null || bookings === undefined) return h('div', { class: 'booking' }, label, '…');
  if (bookings.length === 0) return h('div', { class: 'booking' }, label, h('span', { class: 'muted' }, t('booking.notFound')));
  return h('div', { class: 'booking found' }, label, bookings.map((b) =>
    h('div', {}, h('strong', { class: 'mono' }, b.bookingId), ` · ${b.unit} · ${formatTime(b.from, store.config.timezone)} → ${formatTime(b.to, store.config.timezone)}`)));
}

function validityBadge(card) {
  if (!card.validFrom) return h('span', { class: 'badge red' }, t('card.unsupported'));
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: store.config.timezone }).format(new Date());
  if (today < card.validFrom) return h('span', { class: 'badge red' }, t('card.notYet'));
  if (card.validTo !== null && today > card.validTo) return h('span', { class: 'badge red' }, t('card.expired'));
  return h('span', { class: 'badge green' }, t('card.valid'));
}

function faceBadge(read) {
  const v = read.verification;
  if (v.state !== 'received') return h('span', { class: 'badge grey' }, t('read.waiting'));
  const pass = v.liveness && v.score >= store.config.faceThreshold;
  return h('span', { class: `badge ${pass ? 'green' : 'red'}` }, `${t('face.label')} ${v.score.toFixed(2)}`);
}
