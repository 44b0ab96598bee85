// A smoke alarm takes over the screen at once, with the unit, the time and the registered
// occupants, until a clerk acknowledges it (POST /api/alarms/:alarmId/ack, audited as
// audit/alarm_acknowledged). It is always in both languages, and it beeps while shown.
// An acknowledged alarm that has not cleared stays as a red strip above every screen.
import { post } from './api.js';
import { $, h, mount } from './dom.js';
import { formatTime } from './i18n.js';
import { load, on, store } from './store.js';

const TITLE = document.title;
let audio = null;
let beeper = null;

export function initAlarms() {
  on('alarms', render);
  on('units', render);
  // Browsers allow sound only after a gesture; the login click is one.
  document.addEventListener('click', () => {
    audio ??= new AudioContext();
    void audio.resume();
  });
}

/** Not yet acknowledged, cleared or not: a clerk must have seen every alarm. */
const unacknowledged = () => store.alarms.filter((a) => a.acknowledgedAt === null);
const ongoing = () => store.alarms.filter((a) => a.acknowledgedAt !== null && a.clearedAt === null);

export function render() {
  const open = unacknowledged();
  const overlay = $('#alarm-overlay');
  overlay.hidden = open.length === 0;
  document.body.classList.toggle('in-alarm', open.length > 0);
  document.title = open.length ? `⚠ 火警 FIRE ALARM · ${TITLE}` : TITLE;
  mount(overlay, open.length === 0 ? [] : [
    h('div', { class: 'alarm-title' }, '⚠ 火警 · FIRE ALARM ⚠'),
    h('div', { class: 'alarm-list' }, open.map(alarmCard)),
  ]);
  if (open.length > 0) overlay.querySelector('button')?.focus();
  beep(open.length > 0);
  const strip = $('#alarm-banner');
  const active = ongoing();
  strip.hidden = active.length === 0;
  mount(strip, active.map((a) => h('div', {}, `⚠ 火警未消除 Alarm still active: ${a.unit ?? a.deviceId} · ${formatTime(a.openedAt, store.config.timezone)} · ${a.acknowledgedBy ?? ''}`)));
}

function alarmCard(a) {
  const tz = store.config.timezone;
  const unit = store.units.find((u) => u.code === a.unit);
  const stays = store.stays.filter((s) => s.unit === a.unit);
  return h('section', { class: 'alarm-card', 'data-alarm-id': a.alarmId },
    h('div', { class: 'alarm-unit' }, a.unit ?? '—', unit ? h('span', { class: 'alarm-address' }, unit.address) : null),
    h('dl', {},
      h('dt', {}, '时间 Time'), h('dd', {}, formatTime(a.openedAt, tz)),
      h('dt', {}, '探测器 Detector'), h('dd', { class: 'mono' }, a.deviceId, a.value === null ? '' : ` (${a.value})`),
      h('dt', {}, '登记住客 Registered occupants'),
      h('dd', {}, h('strong', { class: 'occupants' }, String(a.occupants)), stays.length ? ` — ${stays.map((s) => s.name).join('、')}` : ''),
      a.clearedAt ? [h('dt', {}, '已消除 Cleared'), h('dd', {}, formatTime(a.clearedAt, tz))] : null),
    h('button', { class: 'ack', onclick: (e) => void acknowledge(a.alarmId, e.currentTarget) }, '确认已知晓 · Acknowledge'));
}

async function acknowledge(alarmId, button) {
  button.disabled = true;
  const res = await post(`/api/alarms/${encodeURIComponent(alarmId)}/ack`);
  if (res.status !== 200) button.disabled = false;
  await load('alarms');
}

/** Two tones a second while the overlay is up (silent until the first click, see above). */
function beep(active) {
  if (!active) {
    clearInterval(beeper);
    beeper = null;
    return;
  }
  beeper ??= setInterval(() => {
    if (!audio || audio.state !== 'running') return;
    for (const [freq, at] of [[880, 0], [660, 0.35]]) {
      const osc = audio.createOscillator();
      osc.frequency.value = freq;
      osc.connect(audio.destination);
      osc.start(audio.currentTime + at);
      osc.stop(audio.currentTime + at + 0.3);
    }
  }, 1_000);
}
