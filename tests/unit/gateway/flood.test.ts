import { describe, expect, it } from 'vitest';
import { FloodControl } from '../../../gateway/flood.ts';
import { FakeClock } from '../../../gateway/clock.ts';
import type { NewEvent } from '../../../gateway/outbox/outbox.ts';

const failed = (source: string): NewEvent => ({ class: 'security', type: 'auth_failed', data: { source } });

describe('flood control (PROTOCOL.md §2.3)', () => {
  it('lets the first event of a source through at once and summarises the rest each minute', () => {
    const clock = new FakeClock();
    const flood = new FloodControl(clock);
    expect(flood.admit('10.0.0.9', failed('10.0.0.9'))).not.toBeNull();
    for (let i = 0; i < 99; i++) {
      clock.advance(100);
      expect(flood.admit('10.0.0.9', failed('10.0.0.9'))).toBeNull();
    }
    expect(flood.due()).toEqual([]);
    clock.advance(60_000);
    const [summary] = flood.due();
    expect(summary?.data).toMatchObject({ source: '10.0.0.9', count: 99, firstAt: expect.any(String), lastAt: expect.any(String) });
  });

  it('keeps sources apart and forgets a source that went quiet', () => {
    const clock = new FakeClock();
    const flood = new FloodControl(clock);
    expect(flood.admit('a', failed('a'))).not.toBeNull();
    expect(flood.admit('b', failed('b'))).not.toBeNull();
    clock.advance(61_000);
    expect(flood.due()).toEqual([]);
    expect(flood.admit('a', failed('a'))).not.toBeNull();
  });

  it('sends one summary per minute while a flood continues', () => {
    const clock = new FakeClock();
    const flood = new FloodControl(clock);
    flood.admit('a', failed('a'));
    let summaries = 0;
    for (let second = 0; second < 300; second++) {
      clock.advance(1_000);
      flood.admit('a', failed('a'));
      summaries += flood.due().length;
    }
    expect(summaries).toBe(5);
  });

  it('stays bounded when every event comes from a new source', () => {
    const clock = new FakeClock();
    const flood = new FloodControl(clock);
    let through = 0;
    for (let i = 0; i < 50_000; i++) if (flood.admit(`host-${i}`, failed(`host-${i}`))) through++;
    expect(through).toBe(10_000 + 1);
  });
});
