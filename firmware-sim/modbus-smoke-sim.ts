// Simulated wired smoke detectors: the slave side of the RS-485 bus of PROTOCOL.md §5,
// on a serial line (in tests, one end of a socat pty pair). One modbus-serial
// ServerSerial does the RTU framing and CRC for all of them: by default it listens to
// every unit id and hands the id to its vector, so one server stands for the whole bus.
// It answers function 0x04 for the configured addresses from each one's DetectorState;
// other addresses get no answer at all, as on a real bus.
import { ServerSerial } from 'modbus-serial';
import {
  INITIAL_DETECTOR_STATE,
  SMOKE_POLL_DEFAULTS,
  encodeSmokeRegisters,
  type DetectorState,
} from '../protocol/modbus-smoke.ts';

export type ModbusSmokeSlavesOptions = {
  /** The serial line: a real port or the slave end of a pty pair. */
  path: string;
  baudRate?: number;
  /** Slave addresses on the bus (PROTOCOL.md §5: 1–247). */
  addresses: readonly number[];
};

type SimSlave = { state: DetectorState; silent: boolean; delayMs: number; corruptNextCrc: boolean };

type RegistersCallback = (err: Error | null, values: number[]) => void;

/** The SerialPort inside ServerSerial; `getPort()` exists at runtime but not in its typings. */
type ServerPort = { write(data: Buffer): boolean; on(event: 'error', listener: (err: Error) => void): unknown };

/**
 * ServerSerial cuts frames at a silence of `interval` ms (default 30). Over a pty a
 * request arrives in one piece, so a short gap keeps replies well inside the master's
 * timeout; on a real line at 9600 baud 3.5 characters are about 4 ms.
 */
const FRAME_GAP_MS = 5;

/** Modbus exception 0x02: a read past register 2. */
const ILLEGAL_DATA_ADDRESS = 0x02;

export class ModbusSmokeSlaves {
  private readonly slaves = new Map<number, SimSlave>();
  private server: ServerSerial | undefined;

  constructor(private readonly opts: ModbusSmokeSlavesOptions) {
    // A healthy detector: no flags, full battery.
    const state: DetectorState = { ...INITIAL_DETECTOR_STATE, batteryPct: 100 };
    for (const address of opts.addresses) this.slaves.set(address, { state, silent: false, delayMs: 0, corruptNextCrc: false });
  }

  /** Changes what the detector reports from its next reply on. Throws on an out-of-range value. */
  setState(address: number, partial: Partial<DetectorState>): void {
    const slave = this.slave(address);
    const state = { ...slave.state, ...partial };
    encodeSmokeRegisters(state);
    slave.state = state;
  }

  /** A silenced detector does not answer, like one that lost power or its wiring. */
  silence(address: number, on: boolean): void {
    this.slave(address).silent = on;
  }

  /** The next reply of this detector goes out with its CRC bytes inverted. */
  corruptNextCrc(address: number): void {
    this.slave(address).corruptNextCrc = true;
  }

  /** Replies `ms` late: past the master's timeout they arrive as stray bytes on the bus. */
  delayReplies(address: number, ms: number): void {
    this.slave(address).delayMs = ms;
  }

  start(): Promise<void> {
    let port: ServerPort | undefined;
    // `portResponse` is where ServerSerial writes each reply; passing it through here
    // is the one place a finished frame, CRC included, can be altered.
    const portResponse = { write: (reply: Buffer) => port?.write(this.maybeCorrupt(reply)) };
    return new Promise((resolve, reject) => {
      const options = {
        path: this.opts.path,
        baudRate: this.opts.baudRate ?? SMOKE_POLL_DEFAULTS.baudRate,
        interval: FRAME_GAP_MS,
        portResponse,
        openCallback: (err: Error | null) => (err ? reject(err) : resolve()),
      };
      const vector = {
        getMultipleInputRegisters: (start: number, count: number, unitId: number, cb: RegistersCallback) =>
          this.answer(start, count, unitId, cb),
      };
      const server = new ServerSerial(vector, options);
      port = (server as unknown as { getPort(): ServerPort }).getPort();
      // ServerSerial leaves its port's 'error' unhandled, which would crash the process
      // when the pty's other end goes away; the master only sees silence, as on a real bus.
      port.on('error', () => undefined);
      this.server = server;
    });
  }

  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  /** Not calling `cb` at all is how a ServerSerial vector stays silent. */
  private answer(start: number, count: number, unitId: number, cb: RegistersCallback): void {
    const slave = this.slaves.get(unitId);
    if (!slave || slave.silent) return;
    const registers = encodeSmokeRegisters(slave.state);
    if (start + count > registers.length) {
      cb(Object.assign(new Error('illegal data address'), { modbusErrorCode: ILLEGAL_DATA_ADDRESS }), []);
      return;
    }
    const values = registers.slice(start, start + count);
    if (slave.delayMs > 0) setTimeout(() => cb(null, values), slave.delayMs);
    else cb(null, values);
  }

  private maybeCorrupt(reply: Buffer): Buffer {
    const slave = reply[0] === undefined ? undefined : this.slaves.get(reply[0]);
    if (!slave?.corruptNextCrc) return reply;
    slave.corruptNextCrc = false;
    const corrupt = Buffer.from(reply);
    corrupt[corrupt.length - 1] = (corrupt[corrupt.length - 1] ?? 0) ^ 0xff;
    return corrupt;
  }

  private slave(address: number): SimSlave {
    const slave = this.slaves.get(address);
    if (!slave) throw new RangeError(`no simulated detector at address ${address}`);
    return slave;
  }
}
