// Request and reply over a SAM byte stream, PROTOCOL.md §3: one request outstanding at
// a time, each with its reply timeout. Replies carry no request id, so a reply that
// comes when none is outstanding, or that cannot answer the outstanding request, is
// discarded rather than paired with the wrong request.
import {
  CARD_TEXT_BYTES,
  SW3,
  SamParser,
  encodeCommand,
  type SamCommand,
  type SamFrame,
  type SamParseError,
} from '../../protocol/sam/index.ts';
import type { Logger } from '../logger.ts';
import type { ByteTransport } from './transport.ts';

/** PROTOCOL.md §3: replies within 500 ms (status, find, select) or 3 s (read). */
export const SAM_REPLY_TIMEOUT_MS: Readonly<Record<SamCommand, number>> = {
  status: 500,
  samId: 500,
  find: 500,
  select: 500,
  read: 3_000,
};

export type Timers = {
  setTimeout(cb: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
};

/** Looked up at call time, so vitest's fake timers apply when installed after import. */
export const globalTimers: Timers = {
  setTimeout: (cb, ms) => setTimeout(cb, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export type SamReply = Extract<SamFrame, { dir: 'response' }>;
export type SamOutcome = { kind: 'reply'; frame: SamReply } | { kind: 'timeout' } | { kind: 'closed' };

export type SamLinkOptions = {
  transport: ByteTransport;
  timers: Timers;
  logger: Logger;
  onBadFrame: (error: SamParseError) => void;
  onWriteFailed: (err: Error) => void;
};

type Pending = { cmd: SamCommand; settle: (outcome: SamOutcome) => void };

export class SamLink {
  /** Frames dropped because no outstanding request could take them. */
  discarded = 0;
  readonly #o: SamLinkOptions;
  #parser = new SamParser();
  #pending: Pending | null = null;

  constructor(opts: SamLinkOptions) {
    this.#o = opts;
  }

  /** Sends a command and waits for its reply, its timeout, or abort(). Never rejects. */
  request(cmd: SamCommand): Promise<SamOutcome> {
    const frame = encodeCommand(cmd);
    const { timers } = this.#o;
    return new Promise((resolve) => {
      const pending: Pending = {
        cmd,
        settle: (outcome) => {
          if (this.#pending !== pending) return;
          this.#pending = null;
          timers.clearTimeout(timer);
          // Half of a late reply may sit in the parser; it must not swallow the next reply.
          if (outcome.kind === 'timeout') this.#parser = new SamParser();
          resolve(outcome);
        },
      };
      const timer = timers.setTimeout(() => pending.settle({ kind: 'timeout' }), SAM_REPLY_TIMEOUT_MS[cmd]);
      this.#pending = pending;
      this.#o.logger.debug({ cmd, hex: frame.toString('hex') }, 'SAM tx');
      this.#o.transport.write(frame).catch((err: unknown) => {
        pending.settle({ kind: 'closed' });
        this.#o.onWriteFailed(err instanceof Error ? err : new Error(String(err)));
      });
    });
  }

  /** The port is gone or the driver stops: the outstanding request ends as `closed`. */
  abort(): void {
    this.#pending?.settle({ kind: 'closed' });
  }

  /** A freshly opened port: bytes of the old one must not join its frames. */
  reset(): void {
    this.#parser = new SamParser();
  }

  push(chunk: Buffer): void {
    for (const result of this.#parser.push(chunk)) {
      if (result.ok) this.#onFrame(result.frame);
      else this.#o.onBadFrame(result.error);
    }
  }

  #onFrame(frame: SamFrame): void {
    const pending = this.#pending;
    if (frame.dir === 'response') this.#logRx(frame);
    if (frame.dir !== 'response' || pending === null || !canAnswer(pending.cmd, frame)) {
      this.discarded++;
      this.#o.logger.debug({ dir: frame.dir, outstanding: pending?.cmd ?? null }, 'SAM frame discarded: it answers no outstanding request');
      return;
    }
    pending.settle({ kind: 'reply', frame });
  }

  /** Hex dumps at debug only; a read reply holds the name and ID number, so only its size. */
  #logRx(frame: SamReply): void {
    if (frame.data.length >= CARD_TEXT_BYTES) this.#o.logger.debug({ sw3: frame.sw3.toString(16), bytes: frame.raw.length }, 'SAM rx');
    else this.#o.logger.debug({ hex: frame.raw.toString('hex') }, 'SAM rx');
  }
}

/**
 * Whether a reply can answer the outstanding command (§3 SW3 table), so a late reply to
 * an earlier command is not taken for this one: find answers 9F or 80; a read's 90
 * carries the card; status and select answer 90 without one. Error statuses answer any.
 */
function canAnswer(cmd: SamCommand, reply: SamReply): boolean {
  const { sw3 } = reply;
  if (sw3 === SW3.cardFound || sw3 === SW3.noCard) return cmd === 'find';
  if (sw3 !== SW3.ok) return true;
  if (cmd === 'find') return false;
  return cmd === 'read' ? reply.data.length >= 4 : reply.data.length < CARD_TEXT_BYTES;
}
