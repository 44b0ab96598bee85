// The simulated building of `menwei demo`: 20 units (HL-0101 … HL-0504), each with a
// lock and a smoke detector, and a front desk with an ID card reader and a face
// terminal. Two detectors hang on an RS-485 Modbus bus and the card reader on a serial
// line, both over socat ptys, so the gateway's real serial drivers run. Without socat
// there is no pty: the reader becomes the network reader over MQTT (PROTOCOL.md §1.6),
// and every detector talks MQTT.
//
// Two phases, because serial lines must exist before the gateway that opens them:
// `wire()` opens the ptys and starts the serial devices, and tells the gateway's config
// where they are; `start()` provisions and connects the MQTT devices once the gateway
// (its broker URL) is up. `stop()` disconnects the MQTT devices; `unwire()`, after the
// gateway has stopped, closes the serial side.
import type { DeviceKind } from '../protocol/topics.ts';
import type { CardFields } from '../protocol/sam/index.ts';
import { SerialTransport } from '../gateway/drivers/transport.ts';
import { openPtyPair, type PtyPair } from './pty.ts';
import { SamReaderSim } from './sam-reader-sim.ts';
import { ModbusSmokeSlaves } from './modbus-smoke-sim.ts';
import { LockSim } from './lock-sim.ts';
import { SmokeSim } from './smoke-sim.ts';
import { DeskSim } from './desk-sim.ts';
import { NetworkReaderSim } from './network-reader-sim.ts';

export type BuildingUnit = { code: string; lock: string; smoke: string; /** Modbus slave address, for a wired detector. */ wired?: number };

/** How the building's devices are made known to the gateway, as `menwei device add` and `unit add` would. */
export type Provisioner = {
  addUnit(code: string, address: string): void;
  device(kind: DeviceKind, id: string, unit?: string): { secret: string; codeKey?: string };
};

export type BuildingOptions = { units?: number; wired?: number; socat?: boolean; modbusPollMs?: number };

export const DESK_ID = 'desk-1';
export const READER_ID = 'reader-desk1';
const UNITS_PER_FLOOR = 4;

/** HL-0101 … : floor, then door; the last `wired` units get Modbus addresses 1, 2, … */
export function buildingUnits(count: number, wired: number): BuildingUnit[] {
  return Array.from({ length: count }, (_, i) => {
    const room = `${String(Math.floor(i / UNITS_PER_FLOOR) + 1).padStart(2, '0')}${String((i % UNITS_PER_FLOOR) + 1).padStart(2, '0')}`;
    const address = i - (count - wired) + 1;
    return { code: `HL-${room}`, lock: `lock-${room}`, smoke: `smoke-${room}`, ...(address >= 1 ? { wired: address } : {}) };
  });
}

export class Building {
  units: BuildingUnit[];
  /** False until wire() found socat: the reader is then a network reader and no detector is wired. */
  serial = false;
  desk!: DeskSim;
  wiredBus: ModbusSmokeSlaves | undefined;
  private readerPty: PtyPair | undefined;
  private modbusPty: PtyPair | undefined;
  private samReader: SamReaderSim | undefined;
  private networkReader: NetworkReaderSim | undefined;
  private readonly locks = new Map<string, LockSim>();
  private readonly smokes = new Map<string, SmokeSim>();

  constructor(private readonly opts: BuildingOptions = {}) {
    this.units = buildingUnits(opts.units ?? 20, opts.wired ?? 2);
  }

  /** Opens the ptys and starts the serial devices; without socat, falls back to MQTT only. */
  async wire(): Promise<void> {
    if (this.opts.socat !== false) {
      try {
        this.readerPty = await openPtyPair();
        this.modbusPty = await openPtyPair();
        this.serial = true;
      } catch {
        await this.unwire();
      }
    }
    if (!this.serial) {
      this.units = this.units.map(({ wired: _wired, ...unit }) => unit);
      return;
    }
    this.samReader = new SamReaderSim({ transport: new SerialTransport({ path: this.readerPty!.b }) });
    await this.samReader.start();
    const addresses = this.units.flatMap((u) => (u.wired === undefined ? [] : [u.wired]));
    this.wiredBus = new ModbusSmokeSlaves({ path: this.modbusPty!.b, addresses });
    await this.wiredBus.start();
  }

  /** The `readers` entry of the gateway config: serial on the pty, or the network reader. */
  readerConfig(): { id: string; transport: 'serial'; path: string; desk: string } | { id: string; transport: 'network'; desk: string } {
    if (this.readerPty) return { id: READER_ID, transport: 'serial', path: this.readerPty.a, desk: DESK_ID };
    return { id: READER_ID, transport: 'network', desk: DESK_ID };
  }

  /** The `modbus` entries of the gateway config: one bus with the wired detectors, or none. */
  modbusConfig(): Array<{ path: string; pollMs: number; detectors: Array<{ address: number; deviceId: string; unit: string }> }> {
    const detectors = this.units.flatMap((u) => (u.wired === undefined ? [] : [{ address: u.wired, deviceId: u.smoke, unit: u.code }]));
    if (!this.modbusPty || detectors.length === 0) return [];
    return [{ path: this.modbusPty.a, pollMs: this.opts.modbusPollMs ?? 500, detectors }];
  }

  /** Provisions the units and MQTT devices, then connects them all to the building broker. */
  async start(brokerUrl: string, provision: Provisioner): Promise<void> {
    const starting: Array<Promise<void>> = [];
    for (const unit of this.units) {
      const lock = provision.device('lock', unit.lock, unit.code);
      this.locks.set(unit.code, new LockSim({ brokerUrl, id: unit.lock, secret: lock.secret, codeKey: lock.codeKey! }));
      if (unit.wired === undefined) {
        const smoke = provision.device('smoke', unit.smoke, unit.code);
        this.smokes.set(unit.code, new SmokeSim({ brokerUrl, id: unit.smoke, secret: smoke.secret }));
      }
      provision.addUnit(unit.code, `海淀区学院路 8 号 ${unit.code.slice(3)} 室`);
    }
    this.desk = new DeskSim({ brokerUrl, id: DESK_ID, secret: provision.device('desk', DESK_ID).secret, score: 0.93 });
    if (!this.serial) {
      this.networkReader = new NetworkReaderSim({ brokerUrl, id: READER_ID, secret: provision.device('reader', READER_ID).secret });
      starting.push(this.networkReader.start());
    }
    starting.push(this.desk.start(), ...[...this.locks.values()].map((l) => l.start()), ...[...this.smokes.values()].map((s) => s.start()));
    await Promise.all(starting);
  }

  /** Disconnects the MQTT devices (before the gateway stops, so none of them retries). */
  async stop(): Promise<void> {
    const stopping = [...this.locks.values()].map((l) => l.stop()).concat([...this.smokes.values()].map((s) => s.stop()));
    if (this.desk) stopping.push(this.desk.stop());
    if (this.networkReader) stopping.push(this.networkReader.stop());
    await Promise.allSettled(stopping);
    this.locks.clear();
    this.smokes.clear();
  }

  /** Closes the serial devices and the ptys (after the gateway has let go of them). */
  async unwire(): Promise<void> {
    await this.samReader?.stop().catch(() => undefined);
    await this.wiredBus?.stop();
    await this.readerPty?.close();
    await this.modbusPty?.close();
    this.samReader = undefined;
    this.wiredBus = undefined;
    this.readerPty = undefined;
    this.modbusPty = undefined;
  }

  lock(unit: string): LockSim {
    const lock = this.locks.get(unit);
    if (!lock) throw new Error(`no lock in ${unit}`);
    return lock;
  }

  /** The unit's MQTT detector; undefined for a wired one. */
  smoke(unit: string): SmokeSim | undefined {
    return this.smokes.get(unit);
  }

  wiredUnits(): BuildingUnit[] {
    return this.units.filter((u) => u.wired !== undefined);
  }

  /** A card put on the desk's reader. */
  async insertCard(fields: CardFields): Promise<void> {
    if (this.samReader) this.samReader.insertCard(fields);
    else await this.networkReader?.insertCard(fields);
  }

  /** Taking the card off, so the next card (or the same one later) is a new read (PROTOCOL.md §3). */
  removeCard(): void {
    this.samReader?.removeCard();
  }

  describeReader(): { zh: string; en: string } {
    return this.serial
      ? { zh: `读卡器：串口 SAM 读卡器（socat 虚拟串口 ${this.readerPty?.a}）`, en: `reader: serial SAM reader on a socat pty (${this.readerPty?.a})` }
      : this.opts.socat === false
        ? { zh: '不使用 socat（--no-socat）：读卡器为网络读卡器（MQTT），烟感全部走 MQTT', en: 'no socat (--no-socat): the reader is the network reader over MQTT, and every detector is on MQTT' }
        : { zh: '未找到 socat：读卡器改用网络读卡器（MQTT），烟感全部走 MQTT', en: 'socat not found: the reader is the network reader over MQTT, and every detector is on MQTT' };
  }
}
