// The front-desk console (issue 7) in a real browser: Debian's chromium driven by
// playwright-core, against an in-process gateway with a simulated SAM reader on a socat
// pty, a simulated face terminal and lock, and an mqtt.js smoke detector. Each state is
// kept as a screenshot under tests/artifacts/; with MENWEI_UPDATE_DOCS=1 the check-in and
// alarm screens are also copied to docs/ for the README, so a plain test run leaves the
// tracked files alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestGateway, T, type TestGateway } from '../helpers/gateway.ts';
import { openPtyPair, type PtyPair } from '../../firmware-sim/pty.ts';
import { SamReaderSim } from '../../firmware-sim/sam-reader-sim.ts';
import { DeskSim } from '../../firmware-sim/desk-sim.ts';
import { LockSim } from '../../firmware-sim/lock-sim.ts';
import { SerialTransport } from '../../gateway/drivers/transport.ts';
import { defaultFeatures, type Features } from '../../gateway/features.ts';
import { CHECKIN_REASONS } from '../../protocol/checkin-reasons.ts';
import { commandTopic } from '../../protocol/topics.ts';
import { checkCharacter } from '../../protocol/id-number.ts';
import type { CardFields } from '../../protocol/sam/index.ts';

const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const UNIT = 'HL-MY-0301';
const VIEWPORT = { width: 1366, height: 768 };

const card = (name: string, idNumber: string, birth: string, gender: 'male' | 'female'): CardFields => ({
  name, gender, nation: '01', birth, address: '北京市朝阳区朝阳路1号', idNumber, authority: '北京市公安局朝阳分局',
  validFrom: '2015-01-01', validTo: '2035-01-01', docType: 'resident',
});
const ZHANG_SAN = card('张三', '11010519491231002X', '1949-12-31', 'female');
const WANG_WU = card('王五', '360426199101010071', '1991-01-01', 'male');
/** 14 on the day of this test run in any year to 2030: a minor (CHECKIN.md rule 11). */
const MINOR_BIRTH = `${new Date().getFullYear() - 14}-01-01`;
const LI_XIAO = card('李小', `110105${MINOR_BIRTH.replaceAll('-', '')}031` + checkCharacter(`110105${MINOR_BIRTH.replaceAll('-', '')}031`), MINOR_BIRTH, 'male');

let pty: PtyPair;
let reader: SamReaderSim;
let gw: TestGateway;
let f: Features;
let desk: DeskSim;
let lock: LockSim;
let detector: MqttClient;
let password: string;
let token: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const shots = new Map<string, string>();
let navigations = 0;

async function shot(name: string): Promise<void> {
  const path = `${ARTIFACTS}console-${name}.png`;
  await page.screenshot({ path });
  shots.set(name, path);
}

/** A platform command applied as the forwarder would (PROTOCOL.md §2.2). */
async function command(name: string, fields: Record<string, unknown>): Promise<void> {
  const payload = Buffer.from(JSON.stringify({ v: 1, commandId: `cmd-${name}-${Date.now()}`, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), ...fields }));
  await gw.gateway.transact((tx) => gw.gateway.commands.apply(tx, commandTopic(gw.gateway.config.gatewayId, name), payload));
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  pty = await openPtyPair();
  reader = new SamReaderSim({ transport: new SerialTransport({ path: pty.b }) });
  await reader.start();
  f = defaultFeatures();
  gw = await startTestGateway({ readers: [{ id: 'reader-desk1', transport: 'serial', path: pty.a, desk: 'desk-1' }] }, { features: f.all });
  const now = Date.now();
  gw.gateway.units.add({ code: UNIT, address: '海淀区中关村大街1号 3层01', licensed: true }, now);
  gw.gateway.units.add({ code: 'HL-MY-0302', address: '海淀区中关村大街1号 3层02', licensed: true }, now);
  gw.gateway.units.add({ code: 'HL-MY-0303', address: '海淀区中关村大街1号 3层03', licensed: true }, now);
  await command('unit.suspend', { unit: 'HL-MY-0303', reason: '派出所通知：消防检查 Police: fire inspection' });
  await command('booking.upsert', {
    bookingId: 'bk-20260801', unit: UNIT, from: new Date(now - 3_600_000).toISOString(), to: new Date(now + 2 * 86_400_000).toISOString(),
    guests: [{ name: ZHANG_SAN.name, idNumber: ZHANG_SAN.idNumber }],
  });
  const deskDevice = gw.provision('desk', 'desk-1');
  const lockDevice = gw.provision('lock', 'lock-0301', UNIT);
  gw.provision('lock', 'lock-0302', 'HL-MY-0302');
  const smoke = gw.provision('smoke', 'smoke-0301', UNIT);
  ({ password, token } = f.api.staff.add({ id: 'clerk-1', name: '王', days: 1 }, now)!);
  desk = new DeskSim({ brokerUrl: gw.brokerUrl, id: 'desk-1', secret: deskDevice.secret, score: 0.93 });
  await desk.start();
  lock = new LockSim({ brokerUrl: gw.brokerUrl, id: 'lock-0301', secret: lockDevice.secret, codeKey: lockDevice.codeKey! });
  await lock.start();
  detector = await gw.connectDevice('smoke-0301', smoke.secret);
  await detector.publishAsync('menwei/smoke/smoke-0301/status', JSON.stringify({ v: 1, online: true, ts: T(), batteryPct: 87 }), { qos: 1 });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  context = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  page = await context.newPage();
}, 60_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await detector?.endAsync();
  await lock?.stop();
  await desk?.stop();
  await gw?.stop();
  await reader?.stop();
  await pty?.close();
  // The README shows these two; they are replaced only by a run that made both.
  const checkin = shots.get('3-checked-in');
  const alarm = shots.get('5-alarm');
  if (process.env.MENWEI_UPDATE_DOCS === '1' && checkin && alarm && existsSync(checkin) && existsSync(alarm)) {
    copyFileSync(checkin, `${DOCS}console-checkin.png`);
    copyFileSync(alarm, `${DOCS}console-alarm.png`);
  }
});

describe('front-desk console (issue 7)', () => {
  it('serves the page and its files from the gateway, with the right types, and nothing outside the folder', async () => {
    const base = `http://127.0.0.1:${gw.ports.http}`;
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await fetch(`${base}/console/app.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${base}/console/style.css`)).headers.get('content-type')).toMatch(/^text\/css/);
    for (const path of ['/console/..%2Fconsole-feature.ts', '/console/%2e%2e%2f%2e%2e%2fmain.ts', '/console/nope.js']) {
      expect((await fetch(`${base}${path}`)).status).toBe(404);
    }
    expect((await fetch(`${base}/api/config/console`)).status).toBe(401);
    const ack = await fetch(`${base}/api/alarms/a_unknown/ack`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(ack.status).toBe(404);
    expect(await ack.json()).toMatchObject({ error: { code: 'UNKNOWN_ALARM' } });
  });

  it('logs a clerk in with the staff password and keeps the CSRF token in sessionStorage', async () => {
    await page.goto(`http://127.0.0.1:${gw.ports.http}/`);
    await page.locator('#login-form input[name=staffId]').fill('clerk-1');
    await page.locator('#login-form input[name=password]').fill(password);
    await shot('1-login');
    await page.locator('#login-form button[type=submit]').click();
    await page.locator('#app').waitFor({ state: 'visible' });
    page.on('framenavigated', () => navigations++);
    expect(await page.locator('#staff').textContent()).toBe('clerk-1');
    expect(await page.evaluate(() => sessionStorage.getItem('menwei.csrf'))).toMatch(/.{20,}/);
  }, 30_000);

  it('shows a card read with its passing face score and matched booking without a reload', async () => {
    reader.insertCard(ZHANG_SAN);
    const row = page.locator('.read-list button.read').first();
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toContain('110105********002X');
    await page.locator('.face.pass').waitFor({ timeout: 15_000 });
    expect(await page.locator('.guest-name').textContent()).toBe('张*');
    await page.locator('.booking.found').waitFor();
    expect(navigations).toBe(0);
    expect(await page.locator('#cf select[name=booking]').inputValue()).toBe('bk-20260801');
    expect(await page.locator('#cf select[name=unit]').inputValue()).toBe(UNIT);
    await shot('2-read');
  }, 30_000);

  it('checks the guest in and shows the 8-digit code in large digits', async () => {
    await page.locator('#checkin-button').click();
    const code = page.locator('.decision.accepted .code');
    await code.waitFor({ timeout: 10_000 });
    expect(await code.textContent()).toMatch(/^\d{8}$/);
    expect(await page.locator('.decision.accepted').textContent()).toContain('lock-0301');
    await shot('3-checked-in');
  }, 30_000);

  it('refuses a second guest whose face does not match, with the reason in Chinese and English', async () => {
    await page.locator('.decision.accepted button').click();
    desk.score = 0.4;
    reader.removeCard();
    await new Promise((r) => setTimeout(r, 700));
    reader.insertCard(WANG_WU);
    await expect.poll(() => page.locator('.guest-name').textContent(), { timeout: 15_000 }).toBe('王*');
    await page.locator('.face.fail').waitFor({ timeout: 15_000 });
    expect(await page.locator('#cf select[name=booking]').inputValue()).toBe('');
    await page.locator('#cf select[name=unit]').selectOption('HL-MY-0302');
    await page.locator('#checkin-button').click();
    const refused = page.locator('.decision.refused');
    await refused.waitFor({ timeout: 10_000 });
    expect(await refused.locator('.reason-code').textContent()).toBe('FACE_MISMATCH');
    expect(await refused.locator('.msg-zh').textContent()).toBe(CHECKIN_REASONS.FACE_MISMATCH.zh);
    expect(await refused.locator('.msg-en').textContent()).toBe(CHECKIN_REASONS.FACE_MISMATCH.en);
    await shot('4-refused-zh');
    await page.locator('header .lang-toggle').click();
    expect(await page.locator('#checkin-button').textContent()).toBe('Check in');
    expect(await page.locator('#cf select[name=unit]').inputValue()).toBe('HL-MY-0302');
    expect(await refused.locator('.msg-zh').textContent()).toBe(CHECKIN_REASONS.FACE_MISMATCH.zh);
    await shot('4-refused-en');
    await page.locator('header .lang-toggle').click();
  }, 40_000);

  it('asks for the guardian of a minor, and checks the minor in once the guardian is entered', async () => {
    desk.score = 0.95;
    reader.removeCard();
    await new Promise((r) => setTimeout(r, 700));
    reader.insertCard(LI_XIAO);
    await expect.poll(() => page.locator('.guest-name').textContent(), { timeout: 15_000 }).toBe('李*');
    await page.locator('.face.pass').waitFor({ timeout: 15_000 });
    await page.locator('#guardian').waitFor({ state: 'visible' });
    await page.locator('#cf select[name=unit]').selectOption('HL-MY-0302');
    await page.locator('#checkin-button').click();
    await expect.poll(() => page.locator('.decision.refused .reason-code').textContent()).toBe('MINOR_NEEDS_GUARDIAN');
    await page.locator('#cf input[name=gName]').fill('李大');
    await page.locator('#cf input[name=gPhone]').fill('13800000000');
    await page.locator('#cf input[name=gRelation]').fill('父亲');
    await shot('4-guardian');
    await page.locator('#checkin-button').click();
    const code = page.locator('.decision.accepted .code');
    await code.waitFor({ timeout: 10_000 });
    expect(await code.textContent()).toMatch(/^\d{8}$/);
    await page.locator('.decision.accepted button').click();
  }, 40_000);

  it('lists rooms with occupancy, live code ids, a suspension with its reason, and devices and uplink state', async () => {
    await page.locator('[data-tab=rooms]').click();
    const row = page.locator(`tr[data-unit="${UNIT}"]`);
    await expect.poll(() => row.textContent()).toContain('张*');
    expect(await row.locator('.codes .mono').count()).toBe(1);
    expect(await row.textContent()).not.toMatch(/\d{8}/);
    expect(await page.locator('tr[data-unit="HL-MY-0303"]').textContent()).toContain('消防检查');
    await shot('6-rooms');
    // Check-out asks once more: the first click arms the button, the second checks out.
    const minor = page.locator('tr[data-unit="HL-MY-0302"]');
    await minor.locator('button.danger').click();
    expect(await minor.locator('button.danger').textContent()).toBe('确认退房？');
    await minor.locator('button.danger').click();
    await expect.poll(() => minor.textContent()).toContain('空闲');
    expect(await minor.locator('.codes .mono').count()).toBe(0);
    await page.locator('[data-tab=devices]').click();
    await expect.poll(() => page.locator('tr[data-device="smoke-0301"]').textContent()).toContain('87%');
    await shot('7-devices');
    await page.locator('[data-tab=uplink]').click();
    await expect.poll(() => page.locator('#uplink-pill').textContent()).toContain('未配置');
    await shot('8-uplink');
    await page.locator('[data-tab=checkin]').click();
  }, 30_000);

  it('lets a smoke alarm take over the screen with unit, time and occupants until a clerk acknowledges it', async () => {
    await detector.publishAsync('menwei/smoke/smoke-0301/event', JSON.stringify({ v: 1, seq: 1, ts: T(), type: 'alarm', value: 640 }), { qos: 1 });
    const overlay = page.locator('#alarm-overlay');
    await overlay.waitFor({ state: 'visible', timeout: 10_000 });
    const text = await overlay.textContent();
    expect(text).toContain(UNIT);
    expect(text).toContain('张*');
    expect(await overlay.locator('.occupants').textContent()).toBe('1');
    await shot('5-alarm');
    await overlay.locator('button.ack').click();
    await overlay.waitFor({ state: 'hidden', timeout: 10_000 });
    await page.locator('#alarm-banner').waitFor({ state: 'visible' });
    const [alarm] = f.smoke.alarms();
    expect(alarm).toMatchObject({ unit: UNIT, acknowledgedBy: 'clerk-1' });
    const audit = gw.gateway.db.prepare("SELECT count(*) AS n FROM outbox WHERE topic LIKE '%/audit/alarm_acknowledged'").get() as { n: number };
    expect(audit.n).toBe(1);
    await shot('5-alarm-acknowledged');
  }, 30_000);
});
