// Waiting on a condition, and filling the outbox, for the integration tests.
import type { TestGateway } from './gateway.ts';
import type { NewEvent } from '../../gateway/outbox/outbox.ts';

export async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A device backlog of `count` events, appended straight to the outbox in batches. */
export async function fillBacklog(gw: TestGateway, count: number, batch = 5_000): Promise<void> {
  for (let done = 0; done < count; done += batch) {
    await gw.gateway.transact((tx) => {
      for (let i = done; i < Math.min(count, done + batch); i++) {
        tx.emit({ class: 'device', type: 'test', deviceId: 'smoke-backlog', data: { deviceSeq: i } } satisfies NewEvent);
      }
    });
  }
}
