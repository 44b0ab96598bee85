// Prometheus metrics (issue 3 Operability). One registry per gateway, no globals, so
// tests can build several gateways in one process. Gauges are read at scrape time.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Outbox } from './outbox/outbox.ts';
import type { Presence } from './ingest/presence.ts';
import type { DeviceIngest } from './ingest/device-ingest.ts';
import type { CommandDispatcher } from './commands/dispatcher.ts';

export type MetricsSources = {
  outbox: Outbox;
  presence: Presence;
  ingest: DeviceIngest;
  commands: CommandDispatcher;
  upstreamState: () => string;
};

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly ackLatency: Histogram;
  readonly security: Counter;
  readonly serialErrors: Counter;
  readonly mqttErrors: Counter;
  readonly httpErrors: Counter;
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });

  constructor(sources: MetricsSources) {
    const r = this.registry;
    this.ackLatency = new Histogram({
      name: 'menwei_ack_latency_seconds',
      help: 'Device publish to PUBACK release (commit included)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [r],
    });
    this.security = new Counter({ name: 'menwei_security_events_total', help: 'Security events seen, before flood control', labelNames: ['type'], registers: [r] });
    this.serialErrors = new Counter({ name: 'menwei_input_errors_total', help: 'Bad input by source and code', labelNames: ['source', 'code'], registers: [r] });
    this.httpErrors = new Counter({ name: 'menwei_http_errors_total', help: 'HTTP requests answered with an error, by status', labelNames: ['status'], registers: [r] });
    this.mqttErrors = new Counter({ name: 'menwei_mqtt_errors_total', help: 'MQTT connections closed for a malformed or out-of-order packet, before or after CONNECT', labelNames: ['stage'], registers: [r] });
    this.outboxGauges(sources.outbox);
    this.deviceGauges(sources);
    this.loopGauge();
  }

  close(): void {
    this.loopDelay.disable();
  }

  /**
   * How long callbacks waited for the event loop since the last scrape: every device,
   * request and alarm waits this long before Menwei even reads it (issue 8).
   */
  private loopGauge(): void {
    const delay = this.loopDelay;
    delay.enable();
    new Gauge({
      name: 'menwei_event_loop_delay_seconds', help: 'Event-loop delay since the last scrape, by quantile (1 = max)', labelNames: ['quantile'], registers: [this.registry],
      collect() {
        for (const q of [0.5, 0.99]) this.set({ quantile: String(q) }, delay.percentile(q * 100) / 1e9);
        this.set({ quantile: '1' }, delay.max / 1e9);
        delay.reset();
      },
    });
  }

  private outboxGauges(outbox: Outbox): void {
    const r = this.registry;
    let status = outbox.status();
    new Gauge({
      name: 'menwei_outbox_pending', help: 'Undelivered events per class', labelNames: ['class'], registers: [r],
      collect() {
        status = outbox.status();
        for (const [cls, s] of Object.entries(status.classes)) this.set({ class: cls }, s.pending);
      },
    });
    new Gauge({
      name: 'menwei_outbox_oldest_age_seconds', help: 'Age of the oldest undelivered event per class', labelNames: ['class'], registers: [r],
      collect() {
        for (const [cls, s] of Object.entries(status.classes)) this.set({ class: cls }, s.oldestAgeS);
      },
    });
    new Gauge({ name: 'menwei_outbox_delivered_total', help: 'Events acknowledged by the upstream', registers: [r], collect() { this.set(status.delivered); } });
    new Gauge({
      name: 'menwei_outbox_dropped_total', help: 'Events dropped, by reason', labelNames: ['reason'], registers: [r],
      collect() {
        for (const [reason, n] of Object.entries(status.dropped)) this.set({ reason }, n);
      },
    });
    new Gauge({ name: 'menwei_outbox_pending_bytes', help: 'Undelivered payload bytes (outbox.maxBytes bounds it)', registers: [r], collect() { this.set(outbox.pendingBytes()); } });
  }

  private deviceGauges({ presence, ingest, commands, upstreamState }: MetricsSources): void {
    const r = this.registry;
    new Gauge({
      name: 'menwei_commands_total', help: 'Platform commands by answer: ok, error, or bad_command when not even a commandId could be read', labelNames: ['outcome'], registers: [r],
      collect() {
        for (const [outcome, n] of Object.entries(commands.outcomes)) this.set({ outcome }, n);
      },
    });
    new Gauge({
      name: 'menwei_devices_online', help: 'Devices online by kind', labelNames: ['kind'], registers: [r],
      collect() {
        for (const [kind, n] of Object.entries(presence.onlineByKind())) this.set({ kind }, n);
      },
    });
    new Gauge({
      name: 'menwei_upstream_state', help: '1 for the current upstream state', labelNames: ['state'], registers: [r],
      collect() {
        const current = upstreamState();
        for (const state of ['connected', 'down', 'stalled', 'none']) this.set({ state }, state === current ? 1 : 0);
      },
    });
    new Gauge({
      name: 'menwei_device_messages_total', help: 'Device messages by outcome', labelNames: ['outcome'], registers: [r],
      collect() {
        const c = ingest.counters;
        this.set({ outcome: 'duplicate' }, c.duplicates);
        this.set({ outcome: 'seq_conflict' }, c.seqConflicts);
        this.set({ outcome: 'bad_message' }, c.badMessages);
        this.set({ outcome: 'unhandled' }, c.unhandled);
      },
    });
  }
}
