// Wired smoke detectors, PROTOCOL.md §5: the gateway is the Modbus RTU master of one
// RS-485 bus. It reads input registers 0..2 of each configured slave in turn, once per
// pollMs, and turns bit changes into the §1.4 events. The RTU framing and CRC belong to
// modbus-serial; the driver sees register values and classified errors only.
import modbusSerial from 'modbus-serial';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { backoffDelay } from '../forwarder/backoff.ts';
import { INITIAL_DETECTOR_STATE, SMOKE_REGISTERS, decodeSmokeRegisters, smokeEdges } from '../../protocol/modbus-smoke.ts';
import type { DetectorState, SmokeEdge } from '../../protocol/modbus-smoke.ts';

// modbus-serial is CommonJS and sets `module.exports.default` to itself, which is the
// one spelling that Node's ESM loader and TypeScript's NodeNext typings agree on.
const ModbusRTU = modbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

/** `closed`: the port is gone (a dead pty shows up as EIO at the next write, ARCHITECTURE.md). */
export type ModbusLinkErrorKind = 'timeout' | 'crc' | 'closed' | 'other';

export class ModbusLinkError extends Error {
  constructor(readonly kind: ModbusLinkErrorKind, message: string) {
    super(message);
    this.name = 'ModbusLinkError';
  }
}

/** The bus as the driver needs it. Every failure rejects with a ModbusLinkError. */
export interface ModbusLink {
  open(): Promise<void>;
  readInputRegisters(address: number, start: number, count: number, timeoutMs: number): Promise<number[]>;
  close(): Promise<void>;
}

export type ModbusErrorCode = 'MW_MODBUS_CRC' | 'MW_MODBUS_TIMEOUT' | 'MW_MODBUS_BAD_REPLY';

export type ModbusSmokeBusOptions = {
  path: string;
  baudRate: number;
  pollMs: number;
  timeoutMs: number;
  detectors: ReadonlyArray<{ address: number; deviceId: string }>;
  clock: Clock;
  logger: Logger;
  /** Injected in tests; by default modbus-serial's buffered RTU port on `path`. */
  link?: ModbusLink;
  onEdge: (deviceId: string, edge: SmokeEdge, state: DetectorState) => void;
  onState: (deviceId: string, online: boolean) => void;
  onError?: (deviceId: string, code: ModbusErrorCode, detail?: string) => void;
};

export type ModbusCounters = { polls: number; timeouts: number; crcErrors: number; badReplies: number; overruns: number };

type Slave = { address: number; deviceId: string; state: DetectorState; missed: number; online: boolean | undefined };

/** PROTOCOL.md §5: three timeouts in a row give offline. */
const OFFLINE_AFTER_MISSES = 3;
const REOPEN_MAX_MS = 30_000;

export class ModbusSmokeBus {
  readonly counters: ModbusCounters = { polls: 0, timeouts: 0, crcErrors: 0, badReplies: 0, overruns: 0 };
  private readonly link: ModbusLink;
  private readonly log: Logger;
  private readonly slaves: Slave[];
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private linkOpen = false;
  private reopenAt = 0;
  private reopenAttempt = 0;

  constructor(private readonly opts: ModbusSmokeBusOptions) {
    this.log = opts.logger.child({ component: 'modbus', path: opts.path });
    this.link = opts.link ?? new RtuLink(opts.path, opts.baudRate, this.log);
    this.slaves = opts.detectors.map((d) => ({ ...d, state: INITIAL_DETECTOR_STATE, missed: 0, online: undefined }));
  }

  start(): void {
    if (this.loop) return;
    this.running = true;
    this.loop = this.run().catch((err: unknown) => this.log.error({ err }, 'modbus poll loop stopped'));
  }

  /** Lets the request in flight finish (at most timeoutMs), then closes the port. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    if (this.linkOpen) await this.closeLink();
  }

  /** PROTOCOL.md §5: a cycle per pollMs; one that overruns is counted and the next starts at once. */
  private async run(): Promise<void> {
    let due = this.opts.clock.monotonic();
    while (this.running) {
      await this.cycle();
      if (!this.running) return;
      due += this.opts.pollMs;
      const now = this.opts.clock.monotonic();
      if (now > due) {
        this.counters.overruns++;
        due = now;
      } else {
        await this.sleep(due - now);
      }
    }
  }

  /**
   * Slaves are polled one after another, each request bounded by timeoutMs, so a dead
   * detector costs the others its own timeout and no more. While the port is down every
   * detector misses its poll, so an unplugged adapter takes them offline too.
   */
  private async cycle(): Promise<void> {
    if (!this.linkOpen && !(await this.tryOpen())) {
      for (const slave of this.slaves) this.miss(slave);
      return;
    }
    for (const slave of this.slaves) {
      if (!this.running || !this.linkOpen) return;
      await this.poll(slave);
    }
  }

  private async poll(slave: Slave): Promise<void> {
    this.counters.polls++;
    let regs: number[];
    try {
      regs = await this.link.readInputRegisters(slave.address, SMOKE_REGISTERS.start, SMOKE_REGISTERS.count, this.opts.timeoutMs);
    } catch (err) {
      return this.failed(slave, err);
    }
    const decoded = decodeSmokeRegisters(regs);
    if (!decoded.ok) return this.badReply(slave, decoded.error.detail);
    this.answered(slave, decoded.state);
  }

  private answered(slave: Slave, state: DetectorState): void {
    slave.missed = 0;
    if (slave.online !== true) this.setOnline(slave, true);
    const edges = smokeEdges(slave.state, state);
    slave.state = state;
    for (const edge of edges) this.notify(() => this.opts.onEdge(slave.deviceId, edge, state));
  }

  /**
   * A CRC error or a malformed reply means the slave did answer, so it breaks a run of
   * timeouts (§5 counts timeouts "in a row") but, not being a good reply, brings no
   * offline detector back online.
   */
  private async failed(slave: Slave, err: unknown): Promise<void> {
    const kind = err instanceof ModbusLinkError ? err.kind : 'other';
    const detail = err instanceof Error ? err.message : String(err);
    if (kind === 'timeout') {
      this.counters.timeouts++;
      this.report(slave, 'MW_MODBUS_TIMEOUT', detail);
      this.miss(slave);
    } else if (kind === 'crc') {
      this.counters.crcErrors++;
      slave.missed = 0;
      this.report(slave, 'MW_MODBUS_CRC', detail);
    } else if (kind === 'closed') {
      this.miss(slave);
      await this.linkLost(detail);
    } else {
      this.badReply(slave, detail);
    }
  }

  private badReply(slave: Slave, detail: string): void {
    this.counters.badReplies++;
    slave.missed = 0;
    this.report(slave, 'MW_MODBUS_BAD_REPLY', detail);
  }

  private miss(slave: Slave): void {
    slave.missed++;
    if (slave.missed >= OFFLINE_AFTER_MISSES && slave.online !== false) this.setOnline(slave, false);
  }

  private setOnline(slave: Slave, online: boolean): void {
    slave.online = online;
    // `slave`, not `address`: the logger masks `address` keys as personal data.
    this.log.info({ deviceId: slave.deviceId, slave: slave.address, online }, online ? 'detector online' : 'detector offline');
    this.notify(() => this.opts.onState(slave.deviceId, online));
  }

  private report(slave: Slave, code: ModbusErrorCode, detail: string): void {
    this.log.debug({ deviceId: slave.deviceId, code, detail }, 'modbus poll failed');
    const { onError } = this.opts;
    if (onError) this.notify(() => onError(slave.deviceId, code, detail));
  }

  /** A listener that throws must not stop the polling of a life-safety bus. */
  private notify(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, 'modbus listener threw');
    }
  }

  /** Reopen with capped, jittered backoff starting at pollMs (ARCHITECTURE.md, serial notes). */
  private async tryOpen(): Promise<boolean> {
    if (this.opts.clock.monotonic() < this.reopenAt) return false;
    try {
      await this.link.open();
    } catch (err) {
      this.log.warn({ err, attempt: this.reopenAttempt }, 'modbus port open failed');
      this.scheduleReopen();
      return false;
    }
    if (this.reopenAttempt > 0) this.log.info('modbus port reopened');
    this.linkOpen = true;
    this.reopenAttempt = 0;
    return true;
  }

  private async linkLost(detail: string): Promise<void> {
    this.log.warn({ detail }, 'modbus port lost');
    await this.closeLink();
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    const delay = backoffDelay(this.reopenAttempt++, { baseMs: this.opts.pollMs, maxMs: REOPEN_MAX_MS });
    this.reopenAt = this.opts.clock.monotonic() + delay;
  }

  private async closeLink(): Promise<void> {
    this.linkOpen = false;
    try {
      await this.link.close();
    } catch (err) {
      this.log.debug({ err }, 'modbus port close failed');
    }
  }

  /** A sleep that stop() can cut short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake?.(), ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}

/** The part of modbus-serial's RTUBufferedPort (ports/rtubufferedport.js) the link reaches into. */
type RtuPortInternals = { _buffer: Buffer; on(event: 'error', listener: (err: Error) => void): unknown };

type RtuSession = { client: ModbusRTU; port: RtuPortInternals; health: { lost: boolean } };

/** modbus-serial's buffered RTU master over serialport (the real binding, or a socat pty in tests). */
export class RtuLink implements ModbusLink {
  private session: RtuSession | undefined;

  constructor(private readonly path: string, private readonly baudRate: number, private readonly log: Logger) {}

  async open(): Promise<void> {
    const client = new ModbusRTU();
    const health = { lost: false };
    // An unhandled 'error' event would crash the process; a closed or failing port is
    // instead reported as `closed` on the next request and the driver reopens it.
    client.on('error', () => void (health.lost = true));
    client.on('close', () => void (health.lost = true));
    await client.connectRTUBuffered(this.path, { baudRate: this.baudRate });
    const port = rtuPortInternals(client);
    if (!port) {
      await closeClient(client);
      throw new Error('modbus-serial RTUBufferedPort has no _buffer: check the pinned version');
    }
    port.on('error', (err) => this.log.debug({ err }, 'modbus port error after close'));
    this.session = { client, port, health };
  }

  async readInputRegisters(address: number, start: number, count: number, timeoutMs: number): Promise<number[]> {
    const s = this.session;
    if (!s || s.health.lost || !s.client.isOpen) throw new ModbusLinkError('closed', 'serial port is not open');
    // RTU has no transaction ids, and the buffered port keeps bytes across requests: a
    // reply that came after its timeout would be taken as the answer to the next request
    // to that slave. Drop them before each request, as libmodbus users do with
    // modbus_flush() (PROTOCOL.md §5 timeouts; eModbus#74).
    s.port._buffer = Buffer.alloc(0);
    s.client.setID(address);
    s.client.setTimeout(timeoutMs);
    try {
      return (await s.client.readInputRegisters(start, count)).data;
    } catch (err) {
      throw classify(err, s.health.lost);
    }
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (s) await closeClient(s.client);
  }
}

function closeClient(client: ModbusRTU): Promise<void> {
  if (!client.isOpen) return Promise.resolve();
  return new Promise((resolve) => client.close(() => resolve()));
}

/** Checked at open, so a modbus-serial upgrade that moves the buffer fails loudly, not at the first stale reply. */
function rtuPortInternals(client: ModbusRTU): RtuPortInternals | undefined {
  const port = (client as unknown as { _port?: Partial<RtuPortInternals> })._port;
  const ok = port !== undefined && Buffer.isBuffer(port._buffer) && typeof port.on === 'function';
  return ok ? (port as RtuPortInternals) : undefined;
}

/** modbus-serial's errors are plain objects with a name (TransactionTimedOutError, PortNotOpenError) or Errors by message. */
function classify(err: unknown, lost: boolean): ModbusLinkError {
  const { name, message } = (err ?? {}) as { name?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(err);
  if (lost || name === 'PortNotOpenError') return new ModbusLinkError('closed', text);
  if (name === 'TransactionTimedOutError') return new ModbusLinkError('timeout', text);
  if (text === 'CRC error') return new ModbusLinkError('crc', text);
  return new ModbusLinkError('other', text);
}
