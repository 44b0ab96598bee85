// `menwei demo` (INTERFACES.md; `npm start`): a whole simulated building on free loopback
// ports, and a scenario a person can follow in a live zh/en feed on stdout.
//
// - The gateway runs all its default features, with a temporary data directory and a
//   temporary data key. Its own logs go to stderr at warn level, so the feed stays readable.
// - The upstream is an embedded aedes ("a local upstream broker, embedded when nothing
//   else is configured"), so the demo needs no Mosquitto. It can be cut and restored on
//   its port, which step 9 does.
// - The platform simulator subscribes to the gateway's events and sends its commands.
// - The building (firmware-sim/building.ts) uses socat ptys for its serial devices when
//   socat is installed, and says which reader it uses.
//
// After the scenario it keeps running, with the API URL and a staff token printed, until
// SIGINT/SIGTERM; `--scenario-only` exits instead: 0 when every step had its expected
// outcome, 1 naming the failed step (for CI).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { parseConfig } from '../config/load.ts';
import { createLogger } from '../logger.ts';
import { StaffStore, badgeKeyFrom } from '../staff/staff-store.ts';
import type { Gateway, GatewayPorts } from '../main.ts';
import { EXIT, run, say } from './io.ts';
import { Feed } from '../../firmware-sim/feed.ts';
import { EmbeddedUpstream } from '../../firmware-sim/embedded-upstream.ts';
import { PlatformSim, describeEvent, type PlatformEvent } from '../../firmware-sim/platform-sim.ts';
import { Building, type Provisioner } from '../../firmware-sim/building.ts';
import { runScenario, STEP_COUNT, type ScenarioOutcome } from '../../firmware-sim/scenario.ts';
import { httpApi, until } from '../../firmware-sim/scenario-kit.ts';

const GATEWAY_ID = 'gw-demo';
const STAFF_ID = 'demo-clerk';

type DemoOptions = { scenarioOnly?: boolean; socat: boolean };

export function registerDemo(program: Command): void {
  program.command('demo').description('a simulated building on free loopback ports, with a live zh/en feed (npm start)')
    .option('--scenario-only', 'run the scenario and exit: 0 when every step had its expected outcome, 1 otherwise (for CI)')
    .option('--no-socat', 'use no pty even if socat is installed: the network reader, and every detector on MQTT')
    .action((opts: DemoOptions) => run(() => runDemo(opts)));
}

async function runDemo(opts: DemoOptions): Promise<number> {
  const feed = new Feed();
  const signal = waitForSignal();
  const demo = new DemoRig(feed, opts);
  try {
    await demo.start();
    const outcome = await Promise.race([runScenario(demo.context(), feed), signal.received]);
    if (typeof outcome === 'string') return EXIT.ok;
    const passed = report(feed, outcome) && demo.checkStream();
    if (opts.scenarioOnly) return passed ? EXIT.ok : EXIT.no;
    demo.printConsole();
    await signal.received;
    return EXIT.ok;
  } finally {
    signal.dispose();
    await demo.stop();
  }
}

function report(feed: Feed, outcome: ScenarioOutcome): boolean {
  if (outcome.ok) {
    feed.note({ zh: `演示场景完成：${STEP_COUNT} 步全部符合预期`, en: `Scenario complete: all ${STEP_COUNT} steps had their expected outcome` });
    return true;
  }
  feed.note({ zh: `演示场景失败：第 ${outcome.step} 步「${outcome.title.zh}」：${outcome.why}`, en: `Scenario failed at step ${outcome.step} (${outcome.title.en}): ${outcome.why}` });
  say(`menwei demo: step ${outcome.step} failed: ${outcome.why}`);
  return false;
}

/** Resolves with the signal's name; until disposed, SIGINT and SIGTERM stop the demo instead of killing it. */
function waitForSignal(): { received: Promise<string>; dispose(): void } {
  let handler: (signal: string) => void = () => undefined;
  const received = new Promise<string>((resolve) => {
    handler = (signal) => {
      say(`menwei demo: ${signal}, stopping`);
      resolve(signal);
    };
  });
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return { received, dispose: () => { process.off('SIGINT', handler); process.off('SIGTERM', handler); } };
}

/** Device online/offline would bury the scenario under 40 lines at start; the ready note counts them instead. */
function worthShowing(e: PlatformEvent): boolean {
  return !(e.class === 'device' && (e.type === 'online' || e.type === 'offline'));
}

class DemoRig {
  private readonly dataDir = mkdtempSync(join(tmpdir(), 'menwei-demo-'));
  private readonly dataKey = randomBytes(32);
  private readonly upstream = new EmbeddedUpstream();
  private readonly building: Building;
  private platform: PlatformSim | undefined;
  private gateway: Gateway | undefined;
  private ports: GatewayPorts | undefined;
  private token = '';
  private password = '';

  constructor(private readonly feed: Feed, opts: DemoOptions) {
    this.building = new Building({ socat: opts.socat });
  }

  async start(): Promise<void> {
    const upstreamUrl = await this.upstream.start();
    // The platform subscribes before the gateway exists, so its session holds every event from the first.
    this.platform = new PlatformSim({ url: upstreamUrl, gatewayId: GATEWAY_ID, clientId: 'platform-sim', onEvent: (e) => this.show(e) });
    await this.platform.start();
    await this.building.wire();
    this.feed.note(this.building.describeReader());
    await this.startGateway(upstreamUrl);
    const gateway = this.gateway!;
    const staff = new StaffStore(gateway.db, badgeKeyFrom(this.dataKey)).add({ id: STAFF_ID, name: '前台演示', days: 1 }, Date.now())!;
    [this.token, this.password] = [staff.token, staff.password];
    await this.building.start(`mqtt://127.0.0.1:${this.ports!.broker}`, provisioner(gateway, this.dataKey));
    await this.awaitDevicesOnline();
  }

  private async startGateway(upstreamUrl: string): Promise<void> {
    const config = parseConfig({
      gatewayId: GATEWAY_ID, dataDir: this.dataDir, broker: { port: 0 }, console: { port: 0 },
      upstream: { url: upstreamUrl }, readers: [this.building.readerConfig()], modbus: this.building.modbusConfig(),
    });
    const { Gateway } = await import('../main.ts');
    const logger = createLogger({ level: process.env.MENWEI_LOG_LEVEL ?? 'warn' });
    this.gateway = new Gateway(config, { dataKey: this.dataKey, logger });
    this.ports = await this.gateway.start();
    this.feed.note({
      zh: `网关 ${GATEWAY_ID} 已启动：设备 MQTT 127.0.0.1:${this.ports.broker}，HTTP 127.0.0.1:${this.ports.http}，上行 ${upstreamUrl}（内置 aedes），楼宇时区 ${config.timezone}`,
      en: `gateway ${GATEWAY_ID} started: devices on MQTT 127.0.0.1:${this.ports.broker}, HTTP 127.0.0.1:${this.ports.http}, upstream ${upstreamUrl} (embedded aedes), building time zone ${config.timezone}`,
    });
  }

  /** Every device has said something (wired detectors: answered a poll), so the scenario starts from a quiet building. */
  private async awaitDevicesOnline(): Promise<void> {
    const presence = this.gateway!.presence;
    const wired = this.building.wiredUnits().length;
    const expected = this.building.units.length * 2 + 1 + (this.building.serial ? 0 : 1);
    const online = await until('every device online', () => {
      const n = presence.list().filter((d) => d.online === true).length;
      return n >= expected ? n : undefined;
    }, 15_000).catch(() => presence.list().filter((d) => d.online === true).length);
    const units = this.building.units.length;
    this.feed.note({
      zh: `大楼就绪：${units} 个房源，${units} 把门锁，${units - wired} 个 MQTT 烟感和 ${wired} 个 Modbus 烟感，前台读卡器与人脸终端；在线设备 ${online}/${expected}`,
      en: `building ready: ${units} units, ${units} locks, ${units - wired} MQTT and ${wired} Modbus smoke detectors, a front desk with a card reader and a face terminal; ${online}/${expected} devices online`,
    });
  }

  private show(e: PlatformEvent): void {
    if (!worthShowing(e)) return;
    const line = describeEvent(e);
    this.feed.platform({ zh: `#${e.seq} ${line.zh}`, en: `${e.class}/${e.type} ${line.en}` });
  }

  /** The platform's checks over the whole stream (PROTOCOL.md §2.1): valid envelopes, and seq order per class. */
  checkStream(): boolean {
    const p = this.platform!;
    const ok = p.invalid === 0 && p.orderViolations.length === 0;
    const problems = [...p.orderViolations.slice(0, 3), ...(p.invalid ? [`${p.invalid} invalid`] : [])].join('; ');
    this.feed.note(ok
      ? { zh: `平台共收到 ${p.events.length} 条事件（重复 ${p.duplicates} 条已按 eventId 去重），各类别 seq 均有序`, en: `the platform received ${p.events.length} events (${p.duplicates} resends deduplicated by eventId), seq in order within every class` }
      : { zh: `平台事件流有误：${problems}`, en: `the platform's event stream is wrong: ${problems}` });
    if (!ok) say(`menwei demo: platform stream check failed: ${problems}`);
    return ok;
  }

  context(): Parameters<typeof runScenario>[0] {
    const api = httpApi(`http://127.0.0.1:${this.ports!.http}`, this.token);
    return { building: this.building, platform: this.platform!, api, uplink: this.upstream, timezone: this.gateway!.config.timezone };
  }

  printConsole(): void {
    const base = `http://127.0.0.1:${this.ports!.http}`;
    this.feed.note({ zh: '演示继续运行，按 Ctrl-C 结束', en: 'the demo keeps running; Ctrl-C to stop' });
    this.feed.plain(`console: ${base}/  (staff ${STAFF_ID}, password ${this.password})`);
    this.feed.plain(`API:     ${base}/api/  (Authorization: Bearer ${this.token}, staff ${STAFF_ID})`);
    this.feed.plain(`upstream: ${this.upstream.url}  (menwei/up/${GATEWAY_ID}/#, menwei/down/${GATEWAY_ID}/<command>)`);
  }

  /** Devices first (so none retries against a stopped broker), then the gateway, the serial lines, the platform and the upstream. */
  async stop(): Promise<void> {
    await this.building.stop();
    await this.gateway?.stop().catch((err: unknown) => say(`menwei demo: gateway stop: ${String(err)}`));
    await this.building.unwire();
    await this.platform?.stop();
    await this.upstream.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** What `menwei unit add` and `menwei device add` would do, against the running gateway's database. */
function provisioner(gateway: Gateway, dataKey: Buffer): Provisioner {
  return {
    addUnit: (code, address) => gateway.units.add({ code, address, licensed: true }, Date.now()),
    device: (kind, id, unit) => gateway.registry.add({ id, kind, ...(unit ? { unit } : {}) }, dataKey, Date.now()),
  };
}
