// The SAM reader driver over a real pseudo-terminal pair (STYLE.md §3, §11): socat in
// the middle, the real serialport binding on both ends, the simulator as the reader.
import { realpathSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../gateway/clock.ts';
import { SamReader, type CardRead } from '../../gateway/drivers/sam-reader.ts';
import { SerialTransport } from '../../gateway/drivers/transport.ts';
import { createLogger } from '../../gateway/logger.ts';
import { SamReaderSim } from '../../firmware-sim/sam-reader-sim.ts';
import { openPtyPair, type PtyPair } from '../../firmware-sim/pty.ts';
import { SAM_HEADER_BYTES, decodeCard, type CardFields } from '../../protocol/sam/index.ts';
import { readHexFixture } from '../helpers/fixtures.ts';

function fixtureCard(name: string): { fields: CardFields; photo: Buffer } {
  const decoded = decodeCard(readHexFixture(name).subarray(SAM_HEADER_BYTES + 3, -1));
  if (!decoded.ok) throw new Error(`fixture ${name} does not decode`);
  const { photoSha256: _, ...fields } = decoded.card;
  return { fields, photo: decoded.photo };
}

async function until(what: string, cond: () => boolean, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('SAM reader over a socat pty pair', () => {
  let pty: PtyPair;
  let sim: SamReaderSim;
  let reader: SamReader;
  const reads: CardRead[] = [];
  const states: boolean[] = [];

  beforeEach(async () => {
    reads.length = 0;
    states.length = 0;
    pty = await openPtyPair();
    sim = new SamReaderSim({ transport: new SerialTransport({ path: pty.b }) });
    await sim.start();
    reader = new SamReader({
      id: 'reader-lobby',
      transport: new SerialTransport({ path: pty.a }),
      clock: systemClock,
      logger: createLogger({ level: 'silent' }),
      onCard: (read) => reads.push(read),
      onState: (online) => states.push(online),
    });
    reader.start();
  });

  afterEach(async () => {
    await reader.stop();
    await sim.stop().catch(() => undefined);
    await pty.close();
  });

  it('reads a card end to end, with every field as the card holds it', async () => {
    const { fields, photo } = fixtureCard('read-resident');
    sim.insertCard(fields, photo);
    await until('a card read', () => reads.length === 1);
    expect(reads[0]?.card).toMatchObject(fields);
    expect(reads[0]?.photo).toEqual(photo);
    expect(reads[0]?.readerId).toBe('reader-lobby');
    expect(states).toEqual([true]);
  });

  it('links each stable path to the /dev/pts device socat reported', () => {
    expect(pty.devices().map((device) => /^\/dev\/pts\/\d+$/.test(device))).toEqual([true, true]);
    expect([realpathSync(pty.a), realpathSync(pty.b)]).toEqual(pty.devices());
  });

  it('goes offline when the pty is unplugged and reads again after replug without being recreated', async () => {
    sim.insertCard(fixtureCard('read-resident').fields);
    await until('the first read', () => reads.length === 1);

    await pty.unplug();
    await until('offline', () => states.at(-1) === false);
    await pty.replug();
    await sim.start();
    const second = fixtureCard('read-longterm');
    sim.insertCard(second.fields, second.photo);

    await until('a read after replug', () => reads.length === 2);
    expect(reads[1]?.card.idNumber).toBe(second.fields.idNumber);
    expect(states).toEqual([true, false, true]);
  });
});
