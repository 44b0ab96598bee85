// Card reads and face results at the front desk (PROTOCOL.md §1.5, §1.6, §3). Every read
// gets a readId; the card photo goes to the desk paired with the reader on
// menwei/desk/D/card; the desk's verify comes back on menwei/desk/D/verify.
import { ulid } from 'ulid';
import type { Card } from '../../protocol/sam/card.ts';
import { SamParser, decodeCard } from '../../protocol/sam/index.ts';
import { maskIdNumber, maskName } from '../../protocol/id-number.ts';
import { deviceTopic } from '../../protocol/topics.ts';
import { isoTime } from '../../protocol/time.ts';
import type { DeskVerifyPayload, ReaderReadPayload } from '../../protocol/device-messages.ts';
import type { Tx } from '../ingest/tx.ts';
import type { EventBus } from '../event-bus.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { UnsupportedCard } from './decision.ts';
import type { ReadRegistry, ReadRecord } from './reads.ts';

export type ReaderConfig = { id: string; desk: string };

export type FrontDeskDeps = {
  reads: ReadRegistry;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  readers: () => readonly ReaderConfig[];
  publish: (topic: string, payload: object) => Promise<void>;
  countError: (source: string, code: string) => void;
};

export class FrontDesk {
  constructor(private readonly d: FrontDeskDeps) {}

  /** A read from any transport. Returns its readId, or undefined for an unknown reader. */
  onCard(readerId: string, card: Card | UnsupportedCard, photo: Buffer | null): string | undefined {
    const reader = this.d.readers().find((r) => r.id === readerId);
    if (!reader) {
      this.d.countError(readerId, 'UNKNOWN_READER');
      return undefined;
    }
    const record: ReadRecord = {
      readId: `r_${ulid()}`, readerId, desk: reader.desk, receivedMono: this.d.clock.monotonic(), receivedAt: this.d.clock.now(), card, usedByStay: false,
    };
    this.d.reads.add(record);
    this.announce(record);
    if (photo && 'name' in card) {
      const payload = { v: 1, readId: record.readId, name: card.name, photo: photo.toString('base64'), ts: isoTime(record.receivedAt) };
      this.d.publish(deviceTopic('desk', reader.desk, 'card'), payload).catch((err) => this.d.log.error({ err }, 'card not sent to the desk'));
    }
    return record.readId;
  }

  /** §1.5: accepted only from the desk the read was sent to; the latest one counts. */
  onVerify(tx: Tx, deskId: string, v: DeskVerifyPayload): void {
    const outcome = this.d.reads.recordVerify({
      readId: v.readId, desk: deskId, score: v.score, liveness: v.liveness, algo: v.algo, receivedMono: this.d.clock.monotonic(), receivedAt: tx.now,
    });
    if (outcome !== 'accepted') {
      this.d.countError(deskId, outcome === 'wrong_desk' ? 'VERIFY_WRONG_DESK' : 'VERIFY_UNKNOWN_READ');
      this.d.log.warn({ deskId, readId: v.readId, outcome }, 'verify ignored');
      return;
    }
    tx.after(() => this.d.bus.emit('verify', { readId: v.readId, desk: deskId, score: v.score, liveness: v.liveness, at: isoTime(tx.now) }));
  }

  /** §1.6: one complete SAM read response, parsed with the same codec as a serial reader. */
  onNetworkRead(tx: Tx, readerId: string, payload: ReaderReadPayload): void {
    const parser = new SamParser();
    const results = [...parser.push(Buffer.from(payload.frame, 'base64')), ...parser.end()];
    const frame = results.find((r) => r.ok);
    if (!frame?.ok || frame.frame.dir !== 'response' || frame.frame.sw3 !== 0x90) {
      const code = results.find((r) => !r.ok)?.error.code ?? 'MW_SAM_BAD_READ';
      this.d.countError(readerId, code);
      this.d.log.warn({ readerId, code }, 'network reader frame refused');
      return;
    }
    const decoded = decodeCard(frame.frame.data);
    if (!decoded.ok) {
      this.d.countError(readerId, decoded.error.code);
      if (decoded.error.code === 'MW_SAM_DOC_UNSUPPORTED') tx.after(() => this.onCard(readerId, { docType: 'foreign-permanent' }, null));
      return;
    }
    tx.after(() => this.onCard(readerId, decoded.card, decoded.photo));
  }

  private announce(r: ReadRecord): void {
    const card = r.card;
    const known = 'idNumber' in card;
    this.d.bus.emit('read', {
      readId: r.readId, desk: r.desk, readerId: r.readerId,
      name: known ? maskName(card.name) : '', idNumber: known ? maskIdNumber(card.idNumber) : '',
      docType: card.docType, validTo: known ? card.validTo : null, at: isoTime(r.receivedAt),
    });
  }
}
