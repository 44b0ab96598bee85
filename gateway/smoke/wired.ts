// Wired detectors (PROTOCOL.md §5) inside the gateway: one ModbusSmokeBus per configured
// RS-485 bus. Their bit edges become the §1.4 events, committed through the same smoke
// path as MQTT detectors; their online state comes from the bus (three timeouts, first
// good reply), not from heartbeats. The driver polls slaves in turn, each request bounded
// by its own timeout, so a dead detector costs the others no more than that timeout.
import { ModbusSmokeBus } from '../drivers/modbus-master.ts';
import type { Gateway } from '../main.ts';
import type { DeviceIdentity } from '../ingest/device-ingest.ts';
import { URGENT_SMOKE_EVENTS, type SmokeEvent } from '../ingest/smoke.ts';
import type { Tx } from '../ingest/tx.ts';
import type { Logger } from '../logger.ts';
import type { Config } from '../config/schema.ts';
import type { DetectorState, SmokeEdge } from '../../protocol/modbus-smoke.ts';
import { isoTime } from '../../protocol/time.ts';

/** Where a detector's event goes: the smoke feature's handler, inside a commit. */
export type SmokeSink = (tx: Tx, device: DeviceIdentity, e: SmokeEvent) => void;

type BusConfig = Config['modbus'][number];

export class WiredDetectors {
  private readonly devices = new Map<string, DeviceIdentity>();
  /** §5: "The gateway gives their events its own seq". It restarts at 1 with the gateway, as a device's counter may (§1 dedupe). */
  private readonly seqs = new Map<string, number>();
  private buses: ModbusSmokeBus[] = [];
  private readonly log: Logger;

  constructor(private readonly gw: Gateway, private readonly sink: SmokeSink) {
    this.log = gw.logger.child({ component: 'smoke-wired' });
  }

  /**
   * Detectors come from config; `device add` is not needed for them (§5). They are
   * listed at once, unknown until the bus reports them, and never time out on heartbeats.
   */
  track(): void {
    for (const bus of this.gw.config.modbus) {
      for (const d of bus.detectors) {
        const device: DeviceIdentity = { id: d.deviceId, kind: 'smoke', unit: d.unit ?? null };
        this.devices.set(device.id, device);
        this.gw.presence.track(device, { heartbeat: false });
      }
    }
  }

  start(): void {
    this.buses = this.gw.config.modbus.map((cfg) => this.bus(cfg));
    for (const bus of this.buses) bus.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.buses.map((bus) => bus.stop()));
    this.buses = [];
  }

  private bus(cfg: BusConfig): ModbusSmokeBus {
    return new ModbusSmokeBus({
      path: cfg.path,
      baudRate: cfg.baudRate,
      pollMs: cfg.pollMs,
      timeoutMs: cfg.timeoutMs,
      detectors: cfg.detectors,
      clock: this.gw.clock,
      logger: this.gw.logger,
      onEdge: (deviceId, edge, state) => this.edge(deviceId, edge, state),
      onState: (deviceId, online) => this.state(deviceId, online),
      // §5: a CRC error is counted and polling goes on (the driver keeps polling).
      onError: (_deviceId, code) => this.gw.metrics.serialErrors.inc({ source: 'modbus', code }),
    });
  }

  private edge(deviceId: string, edge: SmokeEdge, state: DetectorState): void {
    const device = this.devices.get(deviceId);
    if (!device) return;
    const seq = (this.seqs.get(deviceId) ?? 0) + 1;
    this.seqs.set(deviceId, seq);
    const e: SmokeEvent = {
      type: edge.type,
      seq,
      ts: isoTime(this.gw.clock.now()),
      ...(edge.value !== undefined ? { value: edge.value } : {}),
      ...(edge.what !== undefined ? { what: edge.what } : {}),
    };
    const urgent = URGENT_SMOKE_EVENTS.has(e.type);
    this.commit(deviceId, (tx) => {
      this.gw.presence.seen(tx, device, state.batteryPct);
      this.sink(tx, device, e);
    }, urgent);
  }

  private state(deviceId: string, online: boolean): void {
    const device = this.devices.get(deviceId);
    if (!device) return;
    this.commit(deviceId, (tx) => this.gw.presence.driverState(tx, device, online));
  }

  /** The bus calls back synchronously and must keep polling, so a failed commit is logged here. */
  private commit(deviceId: string, work: (tx: Tx) => void, urgent = false): void {
    this.gw.transact(work, { urgent, source: deviceId })
      .catch((err: unknown) => this.log.error({ err, deviceId }, 'modbus detector event not committed'));
  }
}
