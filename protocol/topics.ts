// Topic build and match for the three topic families of PROTOCOL.md §1–§2.
// Matchers never throw: they return the parts or a structured error.
import type { ErrorCode } from './errors.ts';

export const DEVICE_KINDS = ['lock', 'smoke', 'desk', 'reader'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** PROTOCOL.md §1 table: what each kind publishes and subscribes to. */
export const DEVICE_CHANNELS = {
  lock: { publishes: ['event', 'pull', 'status'], subscribes: ['codes'] },
  smoke: { publishes: ['event', 'status'], subscribes: [] },
  desk: { publishes: ['verify', 'status'], subscribes: ['card'] },
  reader: { publishes: ['read', 'status'], subscribes: [] },
} as const satisfies Record<DeviceKind, { publishes: readonly string[]; subscribes: readonly string[] }>;

export type DevicePublishChannel = (typeof DEVICE_CHANNELS)[DeviceKind]['publishes'][number];
export type DeviceInboundChannel = (typeof DEVICE_CHANNELS)[DeviceKind]['subscribes'][number];
export type DeviceChannel = DevicePublishChannel | DeviceInboundChannel;

/** PROTOCOL.md §1 Identity: `[a-z0-9-]{3,64}`. */
export const DEVICE_ID = /^[a-z0-9-]{3,64}$/;

export type TopicError = { code: ErrorCode; message: string };
export type TopicMatch<T> = { ok: true; value: T } | { ok: false; error: TopicError };

export type DeviceTopic = {
  kind: DeviceKind;
  deviceId: string;
  channel: DeviceChannel;
  direction: 'fromDevice' | 'toDevice';
};

export function deviceTopic(kind: DeviceKind, deviceId: string, channel: DeviceChannel): string {
  return `menwei/${kind}/${deviceId}/${channel}`;
}

function fail<T>(code: ErrorCode, message: string): TopicMatch<T> {
  return { ok: false, error: { code, message } };
}

function isKind(s: string | undefined): s is DeviceKind {
  return (DEVICE_KINDS as readonly string[]).includes(s ?? '');
}

export function matchDeviceTopic(topic: string): TopicMatch<DeviceTopic> {
  const parts = topic.split('/');
  const [root, kind, deviceId, channel] = parts;
  if (parts.length !== 4 || root !== 'menwei' || !isKind(kind)) {
    return fail('MW_TOPIC_UNKNOWN', `not menwei/<lock|smoke|desk|reader>/<id>/<channel>: ${topic.slice(0, 200)}`);
  }
  if (!DEVICE_ID.test(deviceId ?? '')) {
    return fail('MW_TOPIC_BAD_DEVICE_ID', `device id must match [a-z0-9-]{3,64}`);
  }
  const { publishes, subscribes } = DEVICE_CHANNELS[kind];
  if ((publishes as readonly string[]).includes(channel ?? '')) {
    return { ok: true, value: { kind, deviceId: deviceId!, channel: channel as DeviceChannel, direction: 'fromDevice' } };
  }
  if ((subscribes as readonly string[]).includes(channel ?? '')) {
    return { ok: true, value: { kind, deviceId: deviceId!, channel: channel as DeviceChannel, direction: 'toDevice' } };
  }
  return fail('MW_TOPIC_UNKNOWN', `a ${kind} has no channel "${String(channel).slice(0, 64)}"`);
}

/** PROTOCOL.md §2.1: `menwei/up/<gatewayId>/<class>/<type>`. */
export function upstreamTopic(gatewayId: string, eventClass: string, type: string): string {
  return `menwei/up/${gatewayId}/${eventClass}/${type}`;
}

export function matchUpstreamTopic(topic: string): TopicMatch<{ gatewayId: string; eventClass: string; type: string }> {
  const parts = topic.split('/');
  const [root, up, gatewayId, eventClass, type] = parts;
  if (parts.length !== 5 || root !== 'menwei' || up !== 'up' || !gatewayId || !eventClass || !type) {
    return fail('MW_TOPIC_UNKNOWN', `not menwei/up/<gatewayId>/<class>/<type>`);
  }
  return { ok: true, value: { gatewayId, eventClass, type } };
}

/** PROTOCOL.md §2.2: `menwei/down/<gatewayId>/<command>`. */
export function commandTopic(gatewayId: string, command: string): string {
  return `menwei/down/${gatewayId}/${command}`;
}

export function commandFilter(gatewayId: string): string {
  return `menwei/down/${gatewayId}/#`;
}

export function matchCommandTopic(topic: string): TopicMatch<{ gatewayId: string; command: string }> {
  const parts = topic.split('/');
  const [root, down, gatewayId, command] = parts;
  if (parts.length !== 4 || root !== 'menwei' || down !== 'down' || !gatewayId || !command) {
    return fail('MW_TOPIC_UNKNOWN', `not menwei/down/<gatewayId>/<command>`);
  }
  return { ok: true, value: { gatewayId, command } };
}
