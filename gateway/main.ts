// The composition root (STYLE.md §4): builds every part from one frozen config. Parts
// have start()/stop(); nothing here is a module-level singleton, so tests build a
// gateway on port 0 with a temp database.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ulid } from 'ulid';
import type { Config } from './config/schema.ts';
import { systemClock, type Clock } from './clock.ts';
import { createLogger, type Logger } from './logger.ts';
import { openDatabase, type Db } from './store/db.ts';
import { Checkpointer } from './store/checkpointer.ts';
import { WalSync, type WalDurability } from './store/wal-sync.ts';
import { DeviceRegistry } from './store/devices.ts';
import { UnitStore } from './store/units.ts';
import { SqliteOutbox } from './outbox/sqlite-outbox.ts';
import { SeqReservation } from './outbox/seq-reservation.ts';
import type { DropInfo, NewEvent } from './outbox/outbox.ts';
import { deliveryThroughCommit } from './outbox/delivery-through-commit.ts';
import { GroupCommit, type SubmitOptions } from './ingest/group-commit.ts';
import type { Tx } from './ingest/tx.ts';
import { Presence } from './ingest/presence.ts';
import { SeqDedupe } from './ingest/dedupe.ts';
import { DeviceIngest } from './ingest/device-ingest.ts';
import { FloodControl } from './flood.ts';
import { AuthThrottle } from './broker/throttle.ts';
import { Authenticator } from './broker/auth.ts';
import { BuildingBroker, type BrokerHooks } from './broker/broker.ts';
import { Forwarder } from './forwarder/forwarder.ts';
import { CommandDispatcher } from './commands/dispatcher.ts';
import { registerUnitCommands } from './commands/unit-commands.ts';
import { GatewayMetrics } from './metrics.ts';
import { createHttpServer } from './http/server.ts';
import { GatewayUpkeep } from './upkeep.ts';
import { commandFilter } from '../protocol/topics.ts';
import { VERSION } from './version.ts';
import { open, seal } from './crypto.ts';
import type { Feature } from './feature.ts';
import { defaultFeatures } from './features.ts';
import { EventBus } from './event-bus.ts';

/**
 * Without `features`, the gateway runs all of them (gateway/features.ts). `openWalSync`
 * opens a descriptor that syncs the WAL (default: store/wal-sync.ts); the gateway opens
 * two, for the group commit and the seq reservation. A test may hold their fsyncs.
 */
export type GatewayDeps = { clock?: Clock; logger?: Logger; dataKey: Buffer; features?: Feature[]; openWalSync?: (db: Db) => WalDurability };
export type GatewayPorts = { broker: number; brokerTls?: number; http: number };

const DAY_MS = 86_400_000;

export class Gateway {
  readonly bootId = ulid();
  readonly clock: Clock;
  readonly logger: Logger;
  db!: Db;
  outbox!: SqliteOutbox;
  commit!: GroupCommit;
  broker!: BuildingBroker;
  forwarder: Forwarder | null = null;
  registry!: DeviceRegistry;
  units!: UnitStore;
  presence!: Presence;
  ingest!: DeviceIngest;
  commands!: CommandDispatcher;
  metrics!: GatewayMetrics;
  private checkpointer?: Checkpointer;
  private walSync?: WalDurability;
  /** The seq reservation's own descriptor on the WAL (seq-reservation.ts). */
  private reservationSync?: WalDurability;
  private readonly openWalSync: (db: Db) => WalDurability;
  private seqReservation?: SeqReservation;
  private floodControl!: FloodControl;
  private seqDedupe!: SeqDedupe;
  private upkeep!: GatewayUpkeep;
  http!: ReturnType<typeof createHttpServer>;
  readonly dataKey: Buffer;
  readonly bus = new EventBus();
  /** What must happen in the same transaction as a unit's suspension (code revocation). */
  readonly unitSuspendHooks: Array<(tx: Tx, unit: string) => void> = [];
  private readonly features: Feature[];
  /** Outbox drops of the running group commit, counted once it commits (invariant 5). */
  private readonly tentativeDrops: DropInfo[] = [];

  constructor(readonly config: Config, deps: GatewayDeps) {
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? createLogger();
    this.dataKey = deps.dataKey;
    this.features = deps.features ?? defaultFeatures().all;
    this.openWalSync = deps.openWalSync ?? ((db) => new WalSync(db));
  }

  async start(): Promise<GatewayPorts> {
    this.buildStore();
    this.buildDomain();
    this.buildBroker();
    this.buildForwarder();
    this.metrics = new GatewayMetrics({ outbox: this.outbox, presence: this.presence, ingest: this.ingest, commands: this.commands, upstreamState: () => this.upstreamState() });
    this.http = createHttpServer({
      logger: this.logger,
      metrics: this.metrics,
      health: { outbox: this.outbox, upstreamState: () => this.upstreamState(), storageFailing: () => this.commit.storageFailing || (this.upkeep?.outboxOverBudget ?? false) },
    });
    for (const feature of this.features) feature.attach(this);
    await this.transact((tx) => tx.emit({ class: 'gateway', type: 'started', data: { version: VERSION, bootId: this.bootId } }));
    const ports = await this.listen();
    for (const feature of this.features) await feature.start?.();
    this.forwarder?.start();
    this.upkeep = new GatewayUpkeep(this);
    this.upkeep.start();
    this.logger.info({ gatewayId: this.config.gatewayId, bootId: this.bootId, ...ports }, 'gateway started');
    return ports;
  }

  /** SIGTERM: stop taking input, let in-flight commits finish, close the upstream session. */
  async stop(): Promise<void> {
    this.upkeep?.stop();
    for (const feature of [...this.features].reverse()) await feature.stop?.();
    await this.broker?.close();
    await this.forwarder?.stop();
    await this.http?.close();
    this.outbox?.close();
    this.seqReservation?.close();
    // Last, so the upstream acks, the requests and the saved uptime above are synced too.
    this.commit?.flushNow();
    this.metrics?.close();
    await this.checkpointer?.stop();
    this.db?.close();
    this.walSync?.close();
    this.reservationSync?.close();
    this.logger.info('gateway stopped');
  }

  /** Runs `fn` inside the next group commit; its after-commit effects run once it is durable. */
  transact<R>(fn: (tx: Tx) => R, options?: SubmitOptions): Promise<R> {
    return this.commit.submit(fn, options);
  }

  /** Runs the periodic upkeep now (heartbeat timeouts, flood summaries, drop reports). */
  upkeepTick(): Promise<void> {
    return this.upkeep.tick();
  }

  flood(): FloodControl {
    return this.floodControl;
  }

  dedupe(): SeqDedupe {
    return this.seqDedupe;
  }

  upstreamState(): 'connected' | 'down' | 'stalled' | 'none' {
    return this.forwarder?.state() ?? 'none';
  }

  private buildStore(): void {
    mkdirSync(this.config.dataDir, { recursive: true });
    this.db = openDatabase(join(this.config.dataDir, 'menwei.db'));
    this.walSync = this.openWalSync(this.db);
    this.reservationSync = this.openWalSync(this.db);
    const reservation = new SeqReservation(this.db, {
      durability: this.reservationSync,
      storageFailing: () => this.commit?.storageFailing ?? true,
      logger: this.logger.child({ component: 'seq-reservation' }),
    });
    reservation.open();
    this.seqReservation = reservation;
    this.outbox = new SqliteOutbox(this.db, {
      gatewayId: this.config.gatewayId,
      bootId: this.bootId,
      clock: this.clock,
      maxBytes: this.config.outbox.maxBytes,
      deliveredRetentionMs: this.config.retention.deliveredDays * DAY_MS,
      ...(this.config.outbox.maxAgeH ? { maxAgeMs: this.config.outbox.maxAgeH * 3600_000 } : {}),
      // Drops inside a transaction that rolls back (a full disk) did not happen.
      onDrop: (info) => this.tentativeDrops.push(info),
      sealer: { seal: (plain) => seal(this.dataKey, plain), open: (sealed) => open(this.dataKey, sealed) },
      awaitSync: true,
      earlyAlarmsThrough: () => reservation.through,
    });
    this.floodControl = new FloodControl(this.clock);
    this.commit = new GroupCommit(this.db, {
      outbox: this.outbox,
      flood: this.floodControl,
      clock: this.clock,
      logger: this.logger.child({ component: 'commit' }),
      durability: this.walSync,
      onTransaction: (committed) => {
        const drops = this.tentativeDrops.splice(0);
        if (committed) for (const drop of drops) this.upkeep?.recordDrop(drop);
      },
      onDurable: (urgent, throughSeq) => {
        if (throughSeq !== undefined) {
          this.outbox.synced(throughSeq);
          reservation.onDurable(throughSeq);
        }
        this.forwarder?.wake(urgent);
      },
      onUrgentCommit: () => this.forwarder?.wake(true),
      onStorageState: (failing, err) => this.upkeep?.storageState(failing, err),
    });
    this.checkpointer = new Checkpointer(this.db, this.commit, this.logger.child({ component: 'checkpointer' }));
    this.registry = new DeviceRegistry(this.db);
    this.units = new UnitStore(this.db);
  }

  private buildDomain(): void {
    this.seqDedupe = new SeqDedupe(this.db);
    this.presence = new Presence(this.clock, this.config.heartbeatS);
    for (const device of this.registry.enabled()) this.presence.track(device);
    this.ingest = new DeviceIngest({ presence: this.presence, dedupe: this.seqDedupe, logger: this.logger.child({ component: 'ingest' }) });
    this.commands = new CommandDispatcher(this.db, { retentionDays: this.config.retention.commandIdDays, logger: this.logger.child({ component: 'commands' }) });
    registerUnitCommands(this.commands, this.units, (tx, unit) => {
      for (const hook of this.unitSuspendHooks) hook(tx, unit);
    });
  }

  private buildBroker(): void {
    const log = this.logger.child({ component: 'broker' });
    const hooks: BrokerHooks = {
      onMessage: async (device, message, raw, isWill) => {
        const started = this.clock.monotonic();
        const urgent = this.ingest.isUrgent(message);
        await this.transact((tx) => this.ingest.apply(tx, device, message, raw, isWill), { urgent, source: device.id });
        this.metrics.ackLatency.observe((this.clock.monotonic() - started) / 1000);
      },
      // With its source, so a device's urgent message does not overtake it (GroupCommit.nextBatch).
      onBadMessage: (device, topic, error) => this.transact((tx) => this.ingest.bad(tx, device, topic, error), { source: device.id }),
      onSecurity: (type, source, detail) => {
        this.metrics.security.inc({ type });
        log.warn({ type, source, ...detail }, 'security event');
        this.report(source, { class: 'security', type, data: { source, ...detail } });
      },
      onDisconnect: (device) =>
        void this.transact((tx) => this.presence.offline(tx, device.id, 'disconnect'), { source: device.id }).catch(() => {}),
      onOversize: (source) => {
        this.metrics.serialErrors.inc({ source: 'mqtt', code: 'MW_MSG_TOO_LARGE' });
        log.warn({ source }, 'packet over the size limit; connection closed');
      },
      onProtocolError: (stage, source, reason) => {
        this.metrics.mqttErrors.inc({ stage });
        log.warn({ source, stage, reason }, 'malformed MQTT packet; connection closed');
      },
    };
    this.broker = new BuildingBroker(new Authenticator(this.registry, new AuthThrottle(this.clock)), hooks, log);
  }

  private buildForwarder(): void {
    const upstream = this.config.upstream;
    if (!upstream) return;
    const file = (path?: string) => (path ? readFileSync(path) : undefined);
    this.forwarder = new Forwarder({
      outbox: deliveryThroughCommit(this.outbox, this.commit),
      url: upstream.url,
      clientId: this.config.gatewayId,
      username: upstream.username,
      password: upstream.password,
      ca: file(upstream.ca),
      cert: file(upstream.cert),
      key: file(upstream.key),
      stallMs: upstream.stallS * 1000,
      clock: this.clock,
      logger: this.logger.child({ component: 'forwarder' }),
      commandFilter: commandFilter(this.config.gatewayId),
      onCommand: (topic, payload) => this.transact((tx) => this.commands.apply(tx, topic, payload)),
    });
  }

  /** Enqueues a flood-controlled event without holding anyone up (PROTOCOL.md §2.3). */
  report(source: string, event: NewEvent): void {
    this.transact((tx) => tx.emitFlooded(source, event)).catch((err) => this.logger.error({ err }, 'event not committed'));
  }

  private async listen(): Promise<GatewayPorts> {
    const { broker, console: web } = this.config;
    const tls = broker.tls && { port: broker.tls.port, cert: readFileSync(broker.tls.cert), key: readFileSync(broker.tls.key), ca: broker.tls.ca ? readFileSync(broker.tls.ca) : undefined };
    const host = plainHost(broker.host, broker.allowPlainLan, this.logger);
    const { port, tlsPort } = await this.broker.listen({ host, port: broker.port, ...(tls ? { tls: { ...tls, host: broker.host } } : {}) });
    const address = await this.http.listen({ host: web.host, port: web.port });
    const http = Number(new URL(address).port);
    return { broker: port, ...(tlsPort !== undefined ? { brokerTls: tlsPort } : {}), http };
  }
}

/**
 * PROTOCOL.md §1: plain TCP on a non-loopback address needs `broker.allowPlainLan`, and
 * warns at every start, because a LAN sniffer would see everything. Without it the
 * plain listener stays on loopback and devices use TLS.
 */
function plainHost(host: string, allowPlainLan: boolean, logger: Logger): string {
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  if (loopback) return host;
  if (allowPlainLan) {
    logger.warn({ host }, 'plain MQTT on a LAN address: every secret and event is visible to a sniffer');
    return host;
  }
  logger.warn({ host }, 'plain MQTT stays on 127.0.0.1; set broker.allowPlainLan to serve it on the LAN');
  return '127.0.0.1';
}
