// One pino logger, passed down with child({component}) (STYLE.md §8). Personal data and
// secrets never reach a log line: known keys are masked or redacted wherever they sit,
// and anything shaped like an ID number is masked inside strings (PROTOCOL.md §0).
// Lines go to stderr, or appended to MENWEI_LOG_FILE when it is set (a box without a
// journal, or a test run whose every line is scanned for personal data, issue 9).
import pino, { type DestinationStream, type Logger } from 'pino';
import { maskIdNumber, maskName } from '../protocol/id-number.ts';

export type { Logger };

const ID_NUMBER_IN_TEXT = /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/g;
const SECRET_KEYS = new Set(['secret', 'password', 'token', 'codeKey', 'photo', 'hmac', 'authorization', 'cookie']);
const NAME_KEYS = new Set(['name', 'guestName']);
const MAX_DEPTH = 6;

/** One stream per file and process: gateways built side by side (tests, the demo) share it rather than each holding a descriptor. */
const fileDestinations = new Map<string, DestinationStream>();

function defaultDestination(): DestinationStream {
  const file = process.env.MENWEI_LOG_FILE;
  if (!file) return pino.destination({ dest: 2, sync: false });
  let stream = fileDestinations.get(file);
  if (!stream) {
    // Appended, so several processes (a gateway and its CLI commands) can share one file.
    stream = pino.destination({ dest: file, append: true, mkdir: true, sync: false });
    fileDestinations.set(file, stream);
  }
  return stream;
}

export function maskText(text: string): string {
  return text.replace(ID_NUMBER_IN_TEXT, (id) => maskIdNumber(id));
}

/** Returns a copy with personal data masked and secrets redacted. */
export function maskPersonalData(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskText(value);
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return value;
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  if (Array.isArray(value)) return value.map((v) => maskPersonalData(v, depth + 1));
  if (value instanceof Error) return { type: value.name, message: maskText(value.message), code: (value as { code?: unknown }).code };
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (SECRET_KEYS.has(key)) out[key] = '[redacted]';
    else if (key === 'address') out[key] = '[masked]';
    else if (key === 'idNumber' && typeof v === 'string') out[key] = maskIdNumber(v);
    else if (NAME_KEYS.has(key) && typeof v === 'string') out[key] = maskName(v);
    else out[key] = maskPersonalData(v, depth + 1);
  }
  return out;
}

export function createLogger(opts: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.MENWEI_LOG_LEVEL ?? 'info',
      base: undefined,
      formatters: { log: (obj) => maskPersonalData(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? maskText(a) : a)) as Parameters<typeof method>;
          method.apply(this, masked);
        },
      },
    },
    opts.destination ?? defaultDestination(),
  );
}
