// One entry point per direction that turns an incoming (topic, payload) pair into a typed
// message or a structured error. None of them throws on input (PROTOCOL.md §0).
import type { z } from 'zod';
import type { ErrorCode } from './errors.ts';
import { DEVICE_SCHEMAS } from './device-messages.ts';
import { matchDeviceTopic, matchCommandTopic, matchUpstreamTopic, type DeviceKind, type DeviceTopic } from './topics.ts';
import { COMMAND_SCHEMAS, isCommandName, type Command, type CommandName } from './commands.ts';
import { UpstreamEnvelope, eventDataSchema, type UpstreamEnvelope as Envelope } from './upstream.ts';

/** PROTOCOL.md §1: a packet over 64 KiB + 1 KiB is cut at the socket; payloads over 64 KiB are bad. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** The `reason` of `device/bad_message` (PROTOCOL.md §0); `UNSUPPORTED_VERSION` is named by the spec. */
export type BadMessageReason = 'TOPIC' | 'TOO_LARGE' | 'NOT_JSON' | 'UNSUPPORTED_VERSION' | 'INVALID';

export type BadMessage = { code: ErrorCode; reason: BadMessageReason; field?: string; message: string };

type Schemas = typeof DEVICE_SCHEMAS;
export type DeviceMessage = {
  [K in DeviceKind]: {
    [C in keyof Schemas[K]]: Omit<DeviceTopic, 'kind' | 'channel'> & {
      kind: K;
      channel: C;
      payload: z.infer<Schemas[K][C] & z.ZodType>;
    };
  }[keyof Schemas[K]];
}[DeviceKind];

export type Validated<T> = { ok: true; value: T } | { ok: false; error: BadMessage };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bad(code: ErrorCode, reason: BadMessageReason, message: string, field?: string): { ok: false; error: BadMessage } {
  return { ok: false, error: field === undefined ? { code, reason, message } : { code, reason, message, field } };
}

/** Size, UTF-8, JSON object, then `v` (§0: another `v` is UNSUPPORTED_VERSION). */
export function parseJsonPayload(payload: Uint8Array | string): Validated<Record<string, unknown>> {
  const json = parseJsonObject(payload);
  return json.ok ? checkVersion(json.value) : json;
}

function parseJsonObject(payload: Uint8Array | string): Validated<Record<string, unknown>> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > MAX_PAYLOAD_BYTES) return bad('MW_MSG_TOO_LARGE', 'TOO_LARGE', `${size} bytes > ${MAX_PAYLOAD_BYTES}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof payload === 'string' ? payload : utf8.decode(payload));
  } catch {
    return bad('MW_MSG_NOT_JSON', 'NOT_JSON', 'payload is not UTF-8 JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return bad('MW_MSG_NOT_JSON', 'NOT_JSON', 'payload is not a JSON object');
  }
  return { ok: true, value: parsed as Record<string, unknown> };
}

function checkVersion(object: Record<string, unknown>): Validated<Record<string, unknown>> {
  if (!('v' in object)) return bad('MW_MSG_INVALID', 'INVALID', 'v: required', 'v');
  if (object.v !== 1) return bad('MW_MSG_UNSUPPORTED_VERSION', 'UNSUPPORTED_VERSION', `v is ${JSON.stringify(object.v)?.slice(0, 20)}`, 'v');
  return { ok: true, value: object };
}

/** Runs a schema; the error names the first failing field by its path. */
export function applySchema<T>(schema: z.ZodType<T>, value: unknown): Validated<T> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join('.') || '(root)';
  return bad('MW_MSG_INVALID', 'INVALID', `${field}: ${issue?.message ?? 'invalid'}`, field);
}

/** A device topic and payload, in either direction of the §1 table. */
export function validateDeviceMessage(topic: string, payload: Uint8Array | string): Validated<DeviceMessage> {
  const matched = matchDeviceTopic(topic);
  if (!matched.ok) return bad(matched.error.code, 'TOPIC', matched.error.message);
  const json = parseJsonPayload(payload);
  if (!json.ok) return json;
  const { kind, channel } = matched.value;
  const schema = (DEVICE_SCHEMAS[kind] as Record<string, z.ZodType>)[channel]!;
  const body = applySchema(schema, json.value);
  if (!body.ok) return body;
  return { ok: true, value: { ...matched.value, payload: body.value } as DeviceMessage };
}

export type ValidatedCommand =
  | { ok: true; value: { name: CommandName; command: Command } }
  /** `commandId` is set when one could be read, so the error can be a `reply` (§2.2). */
  | { ok: false; error: BadMessage; commandId?: string; name?: string };

function readCommandId(value: Record<string, unknown>): string | undefined {
  const id = value.commandId;
  return typeof id === 'string' && id.length >= 1 && id.length <= 64 ? id : undefined;
}

/** A platform command (§2.2). Without a readable commandId it becomes `gateway/bad_command`. */
export function validateCommand(topic: string, payload: Uint8Array | string): ValidatedCommand {
  const matched = matchCommandTopic(topic);
  if (!matched.ok) return bad(matched.error.code, 'TOPIC', matched.error.message);
  const { command: name } = matched.value;
  const json = parseJsonObject(payload);
  if (!json.ok) return json;
  const commandId = readCommandId(json.value);
  // A command of another version still names its commandId, so it is answered (INVALID)
  // rather than left unanswered (docs/PROTOCOL-NOTES.md Commands).
  const versioned = checkVersion(json.value);
  if (!versioned.ok) return { ...versioned, commandId, name };
  if (!isCommandName(name)) {
    return { ...bad('MW_TOPIC_UNKNOWN', 'TOPIC', `unknown command "${name.slice(0, 64)}"`), commandId, name };
  }
  const body = applySchema(COMMAND_SCHEMAS[name] as z.ZodType<Command>, json.value);
  if (!body.ok) return { ...body, commandId, name };
  return { ok: true, value: { name, command: body.value } };
}

/** An upstream event as the platform receives it (§2.1): envelope, topic agreement, data. */
export function validateUpstreamEvent(topic: string, payload: Uint8Array | string): Validated<Envelope> {
  const matched = matchUpstreamTopic(topic);
  if (!matched.ok) return bad(matched.error.code, 'TOPIC', matched.error.message);
  const json = parseJsonPayload(payload);
  if (!json.ok) return json;
  const envelope = applySchema(UpstreamEnvelope, json.value);
  if (!envelope.ok) return envelope;
  const { gatewayId, eventClass, type } = matched.value;
  const e = envelope.value;
  if (e.gatewayId !== gatewayId || e.class !== eventClass || e.type !== type) {
    return bad('MW_MSG_INVALID', 'INVALID', 'envelope gatewayId/class/type disagree with the topic', 'type');
  }
  const dataSchema = eventDataSchema(e.class, e.type);
  if (!dataSchema) return bad('MW_MSG_INVALID', 'INVALID', `unknown type ${e.class}/${e.type}`, 'type');
  const data = applySchema(dataSchema, e.data);
  if (!data.ok) return bad('MW_MSG_INVALID', 'INVALID', `data.${data.error.message}`, `data.${data.error.field}`);
  return envelope;
}
