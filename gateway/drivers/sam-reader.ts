// Host side of a GA/T 467 resident ID card reader over any byte transport (serial, HID),
// PROTOCOL.md §3 "Polling": find every 500 ms, select and read on 9F, SAM status every
// 60 s, a card counted once, offline after three timeouts, and the port reopened with
// backoff when it goes away. Nothing is thrown past the driver.
import { createHash } from 'node:crypto';
import type { ErrorCode } from '../../protocol/errors.ts';
import { maskIdNumber, maskName } from '../../protocol/id-number.ts';
import { SW3, decodeCard, describeSw3, type Card, type DocType, type SamCommand, type SamParseError } from '../../protocol/sam/index.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { SamLink, globalTimers, type SamReply, type Timers } from './sam-link.ts';
import type { ByteTransport } from './transport.ts';

export type { Timers } from './sam-link.ts';

/** PROTOCOL.md §3 "Polling", plus the reopen backoff of ARCHITECTURE.md "Serial and HID". */
export const SAM_POLLING = {
  findEveryMs: 500,
  sameReadWindowMs: 5_000,
  statusEveryMs: 60_000,
  offlineAfterTimeouts: 3,
  reopenFirstMs: 250,
  reopenMaxMs: 5_000,
} as const;

export type CardRead = { card: Card; photo: Buffer; readerId: string };
export type UnsupportedRead = { docType: DocType; readerId: string };

export type SamReaderOptions = {
  id: string;
  transport: ByteTransport;
  clock: Clock;
  logger: Logger;
  /** A new read; the same card again within 5 s with no failed find between is not one (§3). */
  onCard: (read: CardRead) => void;
  /** Online at the first good reply; offline after three timeouts in a row or a lost port. */
  onState?: (online: boolean) => void;
  /** Every counted problem: bad frames, timeouts, error statuses, unusable card reads. */
  onError?: (code: ErrorCode, detail?: string) => void;
  /** A foreign permanent resident card (types I, Y), which the desk refuses with DOC_UNSUPPORTED. */
  onUnsupported?: (read: UnsupportedRead) => void;
  timers?: Timers;
};

export class SamReader {
  /** Running totals, for metrics. `discarded` is on the link. */
  readonly counters = { reads: 0, badFrames: 0, timeouts: 0, errorStatuses: 0 };
  readonly #o: SamReaderOptions;
  readonly #timers: Timers;
  readonly #log: Logger;
  readonly #link: SamLink;
  #running = false;
  #loop: Promise<void> = Promise.resolve();
  #sleeping: { wake: () => void } | null = null;
  #connected = false;
  #online = false;
  #timeoutsInRow = 0;
  /**
   * After a timeout the next request waits a full poll interval, so a reply up to 500 ms
   * late arrives with nothing outstanding and is dropped, not paired (§3).
   */
  #quietAfterTimeout = false;
  #reopenDelayMs: number = SAM_POLLING.reopenFirstMs;
  #lastStatusAt: number | null = null;
  #lastRead: { key: string; at: number } | null = null;

  constructor(opts: SamReaderOptions) {
    this.#o = opts;
    this.#timers = opts.timers ?? globalTimers;
    this.#log = opts.logger.child({ component: 'sam-reader', readerId: opts.id });
    this.#link = new SamLink({
      transport: opts.transport,
      timers: this.#timers,
      logger: this.#log,
      onBadFrame: (error) => this.#badFrame(error),
      onWriteFailed: (err) => this.#writeFailed(err),
    });
  }

  /** Frames that answered no outstanding request (late or unpaired replies). */
  get discarded(): number {
    return this.#link.discarded;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#o.transport.onData((chunk) => this.#link.push(chunk));
    this.#o.transport.onClose((err) => this.#lost(err));
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#link.abort();
    this.#sleeping?.wake();
    await this.#loop;
    this.#connected = false;
    await this.#o.transport.close().catch((err: unknown) => this.#log.warn({ err }, 'closing the reader port failed'));
  }

  async #run(): Promise<void> {
    while (this.#running) {
      if (!this.#connected) {
        await this.#reopen();
        continue;
      }
      const startedAt = this.#o.clock.monotonic();
      try {
        await this.#cycle();
      } catch (err) {
        // Only a bug gets here; PROTOCOL.md §3: nothing is thrown past the driver.
        this.#log.error({ err }, 'SAM poll cycle failed');
      }
      await this.#sleep(this.#pollDelay(startedAt));
    }
  }

  /** A find every 500 ms from the start of the last cycle, or a full 500 ms after a timeout. */
  #pollDelay(startedAt: number): number {
    const quiet = this.#quietAfterTimeout;
    this.#quietAfterTimeout = false;
    return quiet ? SAM_POLLING.findEveryMs : SAM_POLLING.findEveryMs - (this.#o.clock.monotonic() - startedAt);
  }

  /** ARCHITECTURE.md "Serial and HID": reopen with backoff, 250 ms doubling to 5 s. */
  async #reopen(): Promise<void> {
    try {
      await this.#o.transport.open();
      this.#link.reset();
      this.#connected = true;
      this.#log.info('reader port open');
    } catch (err) {
      this.#log.warn({ err, retryInMs: this.#reopenDelayMs }, 'reader port did not open');
      await this.#sleep(this.#reopenDelayMs);
      this.#reopenDelayMs = Math.min(this.#reopenDelayMs * 2, SAM_POLLING.reopenMaxMs);
    }
  }

  /** One round of §3 polling: status when due, find, and on 9F select then read. */
  async #cycle(): Promise<void> {
    if (this.#statusDue() && !(await this.#checkStatus())) return;
    const find = await this.#ask('find');
    if (find === null) return;
    if (find.sw3 === SW3.noCard) {
      // A failed find ends "the same read": the next read of any card counts (§3).
      this.#lastRead = null;
      return;
    }
    if (!this.#isStatus('find', find, SW3.cardFound)) return;
    const select = await this.#ask('select');
    if (select === null || !this.#isStatus('select', select, SW3.ok)) return;
    const read = await this.#ask('read');
    if (read === null || !this.#isStatus('read', read, SW3.ok)) return;
    this.#onCardData(read.data);
  }

  #statusDue(): boolean {
    const last = this.#lastStatusAt;
    return last === null || this.#o.clock.monotonic() - last >= SAM_POLLING.statusEveryMs;
  }

  /** False when no reply came, ending the cycle. A bad status is reported, not retried early. */
  async #checkStatus(): Promise<boolean> {
    this.#lastStatusAt = this.#o.clock.monotonic();
    const reply = await this.#ask('status');
    if (reply !== null) this.#isStatus('status', reply, SW3.ok);
    return reply !== null;
  }

  /** §3: an error SW3 (41 read failed, 60 SAM self-test failed, ...) is reported and polling goes on. */
  #isStatus(cmd: SamCommand, reply: SamReply, expected: number): boolean {
    if (reply.sw3 === expected) return true;
    const sw3 = reply.sw3.toString(16).padStart(2, '0').toUpperCase();
    const meaning = describeSw3(reply.sw3);
    this.counters.errorStatuses++;
    this.#log.warn({ cmd, sw3, meaning }, 'SAM reader answered with an error status');
    this.#emit(() => this.#o.onError?.('MW_SAM_STATUS', `${cmd}: ${meaning} (SW3 ${sw3})`));
    return false;
  }

  /** A reply, or null after a timeout or a lost port. Any reply proves the reader alive. */
  async #ask(cmd: SamCommand): Promise<SamReply | null> {
    const outcome = await this.#link.request(cmd);
    if (outcome.kind === 'reply') {
      this.#heard();
      return outcome.frame;
    }
    if (outcome.kind === 'timeout') this.#timedOut(cmd);
    return null;
  }

  #heard(): void {
    this.#timeoutsInRow = 0;
    this.#reopenDelayMs = SAM_POLLING.reopenFirstMs;
    this.#setOnline(true);
  }

  #timedOut(cmd: SamCommand): void {
    this.counters.timeouts++;
    this.#timeoutsInRow++;
    this.#quietAfterTimeout = true;
    this.#log.debug({ cmd, inRow: this.#timeoutsInRow }, 'SAM reply timed out');
    this.#emit(() => this.#o.onError?.('MW_SAM_TIMEOUT', cmd));
    if (this.#timeoutsInRow >= SAM_POLLING.offlineAfterTimeouts) this.#setOnline(false);
  }

  /** ARCHITECTURE.md: a closed pty shows up only as EIO on the next write. */
  #writeFailed(err: Error): void {
    this.#lost(err);
    this.#o.transport.close().catch(() => undefined);
  }

  #lost(err?: Error): void {
    if (!this.#connected || !this.#running) return;
    this.#connected = false;
    this.#log.warn({ err }, 'reader port closed; reopening');
    this.#link.abort();
    this.#setOnline(false);
  }

  #setOnline(online: boolean): void {
    if (this.#online === online) return;
    this.#online = online;
    this.#log.info({ online }, online ? 'reader online' : 'reader offline');
    this.#emit(() => this.#o.onState?.(online));
  }

  #badFrame(error: SamParseError): void {
    this.counters.badFrames++;
    this.#log.warn({ code: error.code, offset: error.offset, detail: error.detail }, 'bad SAM frame');
    this.#emit(() => this.#o.onError?.(error.code, error.detail));
  }

  #onCardData(data: Buffer): void {
    const decoded = decodeCard(data);
    // Unusable reads are keyed by their bytes, so they too are reported once per card.
    const key = decoded.ok ? `${decoded.card.idNumber}/${decoded.card.photoSha256}` : `raw/${sha256(data)}`;
    if (this.#isSameRead(key)) return;
    if (decoded.ok) return this.#deliver(decoded.card, decoded.photo);
    const { code, field, detail, docType } = decoded.error;
    this.#log.warn({ code, field, detail }, 'card read could not be used');
    this.#emit(() => this.#o.onError?.(code, detail ?? field));
    if (code === 'MW_SAM_DOC_UNSUPPORTED' && docType !== undefined) {
      this.#emit(() => this.#o.onUnsupported?.({ docType, readerId: this.#o.id }));
    }
  }

  /**
   * §3: the same card (ID number and photo hash) again within 5 s, with no failed find
   * between, is the same read. The window slides with each repeat, so a card left on
   * the reader counts once until a find fails.
   */
  #isSameRead(key: string): boolean {
    const now = this.#o.clock.monotonic();
    const last = this.#lastRead;
    this.#lastRead = { key, at: now };
    return last !== null && last.key === key && now - last.at <= SAM_POLLING.sameReadWindowMs;
  }

  #deliver(card: Card, photo: Buffer): void {
    this.counters.reads++;
    this.#log.info({ idNumber: maskIdNumber(card.idNumber), name: maskName(card.name), docType: card.docType }, 'card read');
    this.#emit(() => this.#o.onCard({ card, photo, readerId: this.#o.id }));
  }

  /** Callbacks belong to the caller; one that throws must not stop polling. */
  #emit(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.#log.error({ err }, 'SAM reader callback threw');
    }
  }

  #sleep(ms: number): Promise<void> {
    if (!this.#running || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#timers.clearTimeout(timer);
        this.#sleeping = null;
        resolve();
      };
      const timer = this.#timers.setTimeout(wake, ms);
      this.#sleeping = { wake };
    });
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
