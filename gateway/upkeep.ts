// The gateway's periodic upkeep, on monotonic timers (ARCHITECTURE.md invariant 6).
import type { Gateway } from './main.ts';
import type { DropInfo, NewEvent } from './outbox/outbox.ts';
import { ClockJumpDetector, every } from './maintenance.ts';
import { DEDUPE_WINDOW_MS } from './ingest/dedupe.ts';

const TICK_MS = 1_000;
const HOUSEKEEPING_MS = 60_000;

export class GatewayUpkeep {
  private stops: Array<() => void> = [];
  private readonly jumps;
  private drops = new Map<string, { count: number; bytes: number }>();
  private storageFailedAt: number | null = null;
  private overBudget = false;
  private lastDataVersion = -1;

  constructor(private readonly gw: Gateway) {
    this.jumps = new ClockJumpDetector(gw.clock);
  }

  start(): void {
    const onError = (err: unknown) => this.gw.logger.error({ err }, 'upkeep failed');
    this.stops.push(every(TICK_MS, () => this.tick(), onError));
    this.stops.push(every(HOUSEKEEPING_MS, () => this.housekeeping(), onError));
  }

  stop(): void {
    for (const stop of this.stops) stop();
    this.stops = [];
  }

  /** The outbox dropped events past its budget; reported once per tick per class. */
  recordDrop(info: DropInfo): void {
    const d = this.drops.get(info.class) ?? { count: 0, bytes: 0 };
    this.drops.set(info.class, { count: d.count + info.count, bytes: d.bytes + info.bytes });
  }

  /** ARCHITECTURE.md invariant 5: the store refusing writes is reported when it writes again. */
  storageState(failing: boolean, err?: unknown): void {
    if (failing) {
      this.storageFailedAt = this.gw.clock.now();
      this.gw.logger.error({ err }, 'store refuses writes: device acks withheld');
      return;
    }
    const since = this.storageFailedAt;
    this.storageFailedAt = null;
    if (since !== null) this.gw.report('gateway', { class: 'gateway', type: 'disk_full', data: { reason: 'sqlite', since: new Date(since).toISOString(), recovered: true } });
  }

  async tick(): Promise<void> {
    const gw = this.gw;
    const drops = new Map(this.drops);
    const events: NewEvent[] = [...this.takeDrops(), ...this.clockJump(), ...this.budgetAlarm()];
    try {
      await gw.transact((tx) => {
        for (const event of events) tx.emit(event);
        for (const event of gw.flood().due()) tx.emit(event);
        // Inside the commit: an alarm committed ahead of this (group-commit.ts) has just
        // made its detector seen.
        for (const id of gw.presence.overdue()) gw.presence.offline(tx, id, 'heartbeat');
      });
    } catch (err) {
      // A full disk refused the report (invariant 5): the drops stay counted for the next
      // tick, so `gateway/outbox_dropped` still adds up to every drop.
      for (const [cls, d] of drops) {
        const since = this.drops.get(cls) ?? { count: 0, bytes: 0 };
        this.drops.set(cls, { count: since.count + d.count, bytes: since.bytes + d.bytes });
      }
      throw err;
    }
    this.closeDisabledDevices();
  }

  async housekeeping(): Promise<void> {
    const gw = this.gw;
    const now = gw.clock.now();
    await gw.transact(() => {
      gw.outbox.purgeDelivered();
      gw.outbox.expireOld();
      gw.dedupe().purgeOlderThan(now - DEDUPE_WINDOW_MS);
      gw.commands.purge(now);
      for (const unit of gw.units.dueForResume(now)) gw.units.resume(unit);
    });
  }

  private takeDrops(): NewEvent[] {
    const events = [...this.drops].map(([cls, d]): NewEvent => ({ class: 'gateway', type: 'outbox_dropped', data: { class: cls, count: d.count, bytes: d.bytes } }));
    this.drops.clear();
    return events;
  }

  /**
   * ARCHITECTURE.md invariant 5: when only never-dropped events are left and they exceed
   * the budget, they are kept and the gateway raises a health alarm instead.
   */
  private budgetAlarm(): NewEvent[] {
    const over = this.gw.outbox.overBudget();
    if (over === this.overBudget) return [];
    this.overBudget = over;
    if (!over) return [];
    this.gw.logger.error({ pendingBytes: this.gw.outbox.pendingBytes() }, 'outbox over its byte budget with events that are never dropped');
    return [{ class: 'gateway', type: 'disk_full', data: { reason: 'budget', pendingBytes: this.gw.outbox.pendingBytes(), maxBytes: this.gw.config.outbox.maxBytes } }];
  }

  /** For /healthz: the budget is exceeded by events that are never dropped. */
  get outboxOverBudget(): boolean {
    return this.overBudget;
  }

  private clockJump(): NewEvent[] {
    const deltaMs = this.jumps.check();
    if (deltaMs === null) return [];
    this.gw.logger.warn({ deltaMs }, 'wall clock jumped');
    return [{ class: 'gateway', type: 'clock_jump', data: { deltaMs } }];
  }

  /** `menwei device remove` writes the same file; PRAGMA data_version tells us it changed. */
  private closeDisabledDevices(): void {
    const version = this.gw.db.pragma('data_version', { simple: true }) as number;
    if (version === this.lastDataVersion) return;
    this.lastDataVersion = version;
    const connected = new Set(this.gw.broker.connectedIds());
    for (const id of this.gw.registry.disabledIds()) {
      if (connected.has(id)) this.gw.broker.disconnect(id);
    }
    for (const device of this.gw.registry.enabled()) this.gw.presence.track(device);
  }
}
