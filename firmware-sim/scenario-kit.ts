// What the demo scenario's steps share: the people in it, a small client for the
// gateway's HTTP API (INTERFACES.md) with a staff token, polling with a deadline, and
// the formats the feed shows.
import { checkIdNumber, maskIdNumber } from '../protocol/id-number.ts';
import { localDate } from '../protocol/time.ts';
import type { CardFields } from '../protocol/sam/index.ts';
import type { Building } from './building.ts';
import type { PlatformSim } from './platform-sim.ts';
import type { Line } from './feed.ts';

/** A person's ID card, with the birth date and gender that agree with the number (CHECKIN.md rule 5). */
export function cardOf(name: string, idNumber: string): CardFields {
  const parsed = checkIdNumber(idNumber, localDate(Date.now(), 'Asia/Shanghai'));
  if (!parsed.ok) throw new Error(`demo card ${maskIdNumber(idNumber)} is not a valid number: ${parsed.reason}`);
  return {
    name, gender: parsed.gender, nation: '01', birth: parsed.birth, address: '北京市海淀区学院路 8 号',
    idNumber: parsed.id, authority: '北京市公安局海淀分局', validFrom: '2020-01-01', validTo: '2040-01-01', docType: 'resident',
  };
}

export const GUEST = cardOf('张三', '11010519491231002X');
export const SECOND_GUEST = cardOf('李四', '110108199003071238');
export const VISITOR = cardOf('王芳', '310115198506122347');

export type ApiResponse<T = Record<string, unknown>> = { status: number; body: T };

export type Api = {
  readonly base: string;
  get<T = Record<string, unknown>>(path: string): Promise<ApiResponse<T>>;
  post<T = Record<string, unknown>>(path: string, body: unknown): Promise<ApiResponse<T>>;
};

/** The HTTP API with a staff token, as the console's backend is called. */
export function httpApi(base: string, token: string): Api {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  return { base, get: (path) => call('GET', path), post: (path, body) => call('POST', path, body) };
}

export type ScenarioContext = {
  building: Building;
  platform: PlatformSim;
  api: Api;
  /** The embedded upstream broker's listener, cut and restored in step 9. */
  uplink: { cut(): Promise<void>; restore(): Promise<void> };
  timezone: string;
};

/** A step's outcome: its feed line, or why it did not come out as expected. */
export type StepResult = { ok: true; line: Line } | { ok: false; why: string };

/** Polls until `probe` returns a value; throws `timed out waiting for <what>`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

type ReadView = { readId: string; at: string; used?: unknown; card: { idNumber?: string }; verification: { state: string; score?: number } };

/**
 * Puts the card on the desk's reader and waits for the read and the face terminal's
 * verify, then takes the card off, so the next card is a new read.
 */
export async function readAndVerify(ctx: ScenarioContext, card: CardFields): Promise<{ readId: string; score: number }> {
  const since = Date.now() - 50;
  await ctx.building.insertCard(card);
  try {
    const masked = maskIdNumber(card.idNumber);
    return await until(`a verified read of ${masked}`, async () => {
      const { body } = await ctx.api.get<{ reads: ReadView[] }>('/api/reads?desk=desk-1');
      const read = body.reads.find((r) => r.card.idNumber === masked && !r.used && Date.parse(r.at) >= since && r.verification.state === 'received');
      return read && { readId: read.readId, score: read.verification.score ?? 0 };
    });
  } finally {
    ctx.building.removeCard();
  }
}

export type IssuedCode = { lockId: string; codeId: string; code: string; validFrom: string; validTo: string; uses: number | null };

/** `1234 5678`: how a clerk reads a code out. */
export function spaced(code: string): string {
  return `${code.slice(0, 4)} ${code.slice(4)}`;
}

/** A time as the building's clock shows it: `2026-12-02 14:00`. */
export function buildingTime(iso: string, timezone: string): string {
  // The sv-SE locale writes ISO-like dates: 2026-12-02 14:00.
  return new Intl.DateTimeFormat('sv-SE', { timeZone: timezone, dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));
}

export async function health(ctx: ScenarioContext): Promise<{ upstream: string; outboxPending: number }> {
  const response = await fetch(`${ctx.api.base}/healthz`);
  return (await response.json()) as { upstream: string; outboxPending: number };
}
