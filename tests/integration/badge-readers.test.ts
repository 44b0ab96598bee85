// Staff badges on a USB keyboard-wedge reader (PROTOCOL.md §4), through a fake HID device
// (no USB device can exist here) feeding the real decoder and the real staff store.
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { BadgeReaders } from '../../gateway/checkin/badge-readers.ts';
import { BadgeSwipes } from '../../gateway/staff/badge-swipes.ts';
import { StaffStore, badgeKeyFrom } from '../../gateway/staff/staff-store.ts';
import { encodeBadgeReports } from '../../protocol/badge.ts';
import type { HidDevice } from '../../gateway/drivers/transport.ts';
import { defaultFeatures } from '../../gateway/features.ts';

class FakeKeyboard extends EventEmitter implements HidDevice {
  closed = false;
  write(): number {
    return 0;
  }
  close(): void {
    this.closed = true;
  }
  type(digits: string): void {
    for (const report of encodeBadgeReports(digits)) this.emit('data', report);
  }
}

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

describe('staff badge readers', () => {
  it('records a known badge as a swipe of its staff member at the reader\'s desk', async () => {
    gw = await startTestGateway();
    const store = new StaffStore(gw.gateway.db, badgeKeyFrom(gw.gateway.dataKey));
    store.add({ id: 'clerk-7', name: '李', badge: '0012345678', days: 1 }, Date.now());
    const swipes = new BadgeSwipes();
    const readers = new BadgeReaders(gw.gateway, { known: (id) => store.isActive(id), byBadge: (d) => store.findByBadge(d) }, swipes);
    const keyboard = new FakeKeyboard();
    readers.listen(keyboard, 'desk-1');
    keyboard.type('99999999');
    expect(swipes.latest('clerk-7')).toBeUndefined();
    keyboard.type('0012345678');
    expect(swipes.latest('clerk-7')).toMatchObject({ staffId: 'clerk-7', desk: 'desk-1' });
    await readers.stop();
    expect(keyboard.closed).toBe(true);
  });

  it('counts a malformed report and keeps listening', async () => {
    gw = await startTestGateway();
    const store = new StaffStore(gw.gateway.db, badgeKeyFrom(gw.gateway.dataKey));
    store.add({ id: 'clerk-8', name: '赵', badge: '4455', days: 1 }, Date.now());
    const swipes = new BadgeSwipes();
    const readers = new BadgeReaders(gw.gateway, { known: () => true, byBadge: (d) => store.findByBadge(d) }, swipes);
    const keyboard = new FakeKeyboard();
    readers.listen(keyboard, 'desk-2');
    keyboard.emit('data', Buffer.from([1, 2, 3]));
    keyboard.type('4455');
    expect(swipes.latest('clerk-8')?.desk).toBe('desk-2');
    const metrics = await (await fetch(`http://127.0.0.1:${gw.ports.http}/metrics`)).text();
    expect(metrics).toMatch(/menwei_input_errors_total\{source="badge",code="MW_HID_BAD_REPORT"\} 1/);
  });

  it('logs a staff member into the console by the badge just swiped at its desk, once per swipe', async () => {
    const f = defaultFeatures();
    gw = await startTestGateway({}, { features: f.all });
    new StaffStore(gw.gateway.db, badgeKeyFrom(gw.gateway.dataKey)).add({ id: 'clerk-9', name: '钱', badge: '7788', days: 1 }, Date.now());
    const login = () => fetch(`http://127.0.0.1:${gw!.ports.http}/api/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ badge: true }),
    });
    expect((await login()).status).toBe(401);
    f.checkin.badges.record('clerk-9', 'desk-1', gw.gateway.clock.monotonic());
    const ok = await login();
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ staffId: 'clerk-9', csrfToken: expect.any(String) });
    expect(ok.headers.get('set-cookie')).toContain('menwei_session=');
    expect((await login()).status).toBe(401);
  });
});
