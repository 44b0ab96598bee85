// Loading the config: file (or none), then environment overrides (INTERFACES.md), then
// the schema. Every problem is reported with its path; the result is frozen.
import { readFileSync } from 'node:fs';
import { MenweiError } from '../../protocol/errors.ts';
import { ConfigSchema, type Config } from './schema.ts';

type Env = Record<string, string | undefined>;

/** INTERFACES.md: the environment overrides, as paths into the config. */
function applyEnv(raw: Record<string, unknown>, env: Env): Record<string, unknown> {
  const out = structuredClone(raw);
  const set = (path: string[], value: unknown) => {
    let node = out as Record<string, unknown>;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[path.at(-1)!] = value;
  };
  const port = (s: string) => (/^\d+$/.test(s) ? Number(s) : s);
  if (env.MENWEI_DATA_DIR) set(['dataDir'], env.MENWEI_DATA_DIR);
  if (env.MENWEI_GATEWAY_ID) set(['gatewayId'], env.MENWEI_GATEWAY_ID);
  if (env.MENWEI_UPSTREAM_URL) set(['upstream', 'url'], env.MENWEI_UPSTREAM_URL);
  if (env.MENWEI_BROKER_PORT) set(['broker', 'port'], port(env.MENWEI_BROKER_PORT));
  if (env.MENWEI_CONSOLE_PORT) set(['console', 'port'], port(env.MENWEI_CONSOLE_PORT));
  return out;
}

export function parseConfig(raw: unknown, env: Env = {}): Config {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new MenweiError('MW_CONFIG_INVALID', '(root): expected a JSON object');
  }
  const result = ConfigSchema.safeParse(applyEnv(raw as Record<string, unknown>, env));
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    throw new MenweiError('MW_CONFIG_INVALID', lines.join('; '));
  }
  return deepFreeze(result.data);
}

/** Reads the file named by `--config` or MENWEI_CONFIG; no file means embedded defaults. */
export function loadConfig(file: string | undefined, env: Env = process.env): Config {
  const path = file ?? env.MENWEI_CONFIG;
  if (!path) return parseConfig({}, env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MenweiError('MW_CONFIG_INVALID', `${path}: cannot read (${(err as NodeJS.ErrnoException).code})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new MenweiError('MW_CONFIG_INVALID', `${path}: not JSON (${(err as Error).message})`);
  }
  return parseConfig(raw, env);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
