// The HTTP API's one error shape (INTERFACES.md HTTP API): `{"error": {"code", "message":
// {"zh", "en"}}}`. Codes are UPPER_SNAKE strings from one registry, each documented in
// docs/API-NOTES.md (the API tests keep the two in step). Check-in refusals (422) are
// decisions with their own shape, not errors, and are not sent from here.
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';

export type Message = { zh: string; en: string };

export const API_ERRORS = {
  BAD_REQUEST: { status: 400, zh: '请求格式错误', en: 'the request is malformed' },
  UNAUTHORIZED: { status: 401, zh: '未登录或凭据无效', en: 'no valid staff token or session' },
  LOGIN_FAILED: { status: 401, zh: '工号或密码错误', en: 'wrong staff id or password' },
  CSRF_FAILED: { status: 403, zh: '缺少或错误的 CSRF 令牌', en: 'missing or wrong x-csrf-token header' },
  FORBIDDEN: { status: 403, zh: '禁止访问', en: 'forbidden' },
  NOT_FOUND: { status: 404, zh: '没有这个接口', en: 'no such API route' },
  PAYLOAD_TOO_LARGE: { status: 413, zh: '请求体过大', en: 'the request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, zh: '请求体须为 JSON', en: 'the request body must be JSON' },
  TOO_MANY_ATTEMPTS: { status: 429, zh: '登录失败次数过多，请一分钟后再试', en: 'too many failed logins from this address; try again in a minute' },
  INTERNAL: { status: 500, zh: '网关内部错误', en: 'internal gateway error' },
} as const satisfies Record<string, { status: number } & Message>;

export type ApiErrorCode = keyof typeof API_ERRORS;

export function httpError(reply: FastifyReply, status: number, code: string, message: Message): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}

/** A registered error; `detail` is appended to the English message (zod issue paths and the like). */
export function apiError(reply: FastifyReply, code: ApiErrorCode, detail?: string): FastifyReply {
  const { status, zh, en } = API_ERRORS[code];
  return httpError(reply, status, code, { zh, en: detail ? `${en}: ${detail}` : en });
}

/** Parses a body or query; on failure sends 400 BAD_REQUEST naming each bad field and returns undefined. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, reply: FastifyReply): z.infer<S> | undefined {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  apiError(reply, 'BAD_REQUEST', result.error.issues.map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`).join('; '));
  return undefined;
}

/** Fastify's own errors (bad JSON, body too large, wrong content type) in the same shape. */
export function sendFastifyError(reply: FastifyReply, error: { statusCode?: number; message: string }): FastifyReply {
  const status = error.statusCode ?? 500;
  if (status === 413) return apiError(reply, 'PAYLOAD_TOO_LARGE');
  if (status === 415) return apiError(reply, 'UNSUPPORTED_MEDIA_TYPE');
  if (status >= 400 && status < 500) return apiError(reply, 'BAD_REQUEST', error.message);
  return apiError(reply, 'INTERNAL');
}
