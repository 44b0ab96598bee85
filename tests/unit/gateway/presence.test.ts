import { describe, expect, it } from 'vitest';
import { Presence } from '../../../gateway/ingest/presence.ts';
import { FakeClock } from '../../../gateway/clock.ts';
import { TxScope } from '../../../gateway/ingest/tx.ts';
import { FloodControl } from '../../../gateway/flood.ts';

const recorder = (clock: FakeClock) => new TxScope(clock.now(), new FloodControl(clock));

const lock = { id: 'lock-0301', kind: 'lock' as const, unit: 'HL-0301' };
const heartbeats = { lock: 60, desk: 60, reader: 60, smoke: 300 };

describe('presence (PROTOCOL.md §1.1)', () => {
  it('goes offline after 2 missed intervals and online again at the next message', () => {
    const clock = new FakeClock();
    const presence = new Presence(clock, heartbeats);
    const tx = recorder(clock);
    presence.seen(tx, lock);
    clock.advance(120_000);
    expect(presence.overdue()).toEqual([]);
    clock.advance(1);
    expect(presence.overdue()).toEqual(['lock-0301']);
    presence.offline(tx, 'lock-0301', 'heartbeat');
    expect(presence.overdue()).toEqual([]);
    presence.seen(tx, lock);
    expect(tx.events.map((e) => e.type)).toEqual(['online', 'offline', 'online']);
  });

  it('uses the 300 s smoke interval for detectors', () => {
    const clock = new FakeClock();
    const presence = new Presence(clock, heartbeats);
    presence.seen(recorder(clock), { id: 'smoke-1', kind: 'smoke', unit: null });
    clock.advance(599_000);
    expect(presence.overdue()).toEqual([]);
    clock.advance(2_000);
    expect(presence.overdue()).toEqual(['smoke-1']);
  });

  it('reports a provisioned device that never spoke as offline after 2 intervals, not before', () => {
    const clock = new FakeClock();
    const presence = new Presence(clock, heartbeats);
    presence.track(lock);
    expect(presence.list()[0]?.online).toBeNull();
    clock.advance(121_000);
    expect(presence.overdue()).toEqual(['lock-0301']);
  });

  it('undoes a transition whose commit failed, so the retry reports it again', () => {
    const clock = new FakeClock();
    const presence = new Presence(clock, heartbeats);
    const failed = recorder(clock);
    presence.seen(failed, lock);
    failed.rollback();
    const retried = recorder(clock);
    presence.seen(retried, lock);
    expect(retried.events.map((e) => e.type)).toEqual(['online']);
  });

  it('ignores a wall-clock jump', () => {
    const clock = new FakeClock();
    const presence = new Presence(clock, heartbeats);
    presence.seen(recorder(clock), lock);
    clock.jumpWall(86_400_000);
    expect(presence.overdue()).toEqual([]);
  });
});
