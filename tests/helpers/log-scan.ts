// Issue 9: "no log line, metric label or error message contains a plain ID number, name,
// device secret or code digits. Scan a full test run's logs." tests/security/log-scan.setup.ts
// sends the logs of every gateway of the run (in process and child processes) to one file
// at debug level (MENWEI_LOG_FILE); the helpers that hand out secrets and codes record
// them next to it; at the end of the run, the file is scanned for those and for the
// personal data of the fixtures.
import { appendFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkCharacter, maskIdNumber, maskName } from '../../protocol/id-number.ts';
import { SamParser, decodeCard } from '../../protocol/sam/index.ts';
import { readHexFixture, samFixtureNames } from './fixtures.ts';

/** Set by the global setup for the whole run; unset, nothing is recorded. */
export const SCAN_DIR_VAR = 'MENWEI_LOG_SCAN_DIR';
export const LOG_FILE_NAME = 'menwei.log';
const SECRETS_PREFIX = 'secrets-';

/** The log level for gateways of the run: everything while the scan is on, else `fallback`. */
export const testLogLevel = (fallback: string): string => (process.env[SCAN_DIR_VAR] ? 'debug' : fallback);

const SECRET_KEYS = new Set(['secret', 'token', 'password', 'codeKey', 'csrfToken']);
const CODE = /^\d{8}$/;

/** Records the secrets and code digits found in `value` (helper results, API replies); returns `value`. */
export function recordSecrets<T>(value: T): T {
  const dir = process.env[SCAN_DIR_VAR];
  if (!dir) return value;
  const found: string[] = [];
  collect(value, found, 0);
  if (found.length > 0) appendFileSync(join(dir, `${SECRETS_PREFIX}${process.pid}.txt`), found.map((s) => `${s}\n`).join(''));
  return value;
}

function collect(value: unknown, found: string[], depth: number): void {
  if (typeof value !== 'object' || value === null || depth > 6) return;
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string' && (SECRET_KEYS.has(key) || (key === 'code' && CODE.test(v)))) found.push(v);
    else collect(v, found, depth + 1);
  }
}

/** A plain value that must never be in a log line, and how it is shown in a finding. */
export type Needle = { what: string; find(line: string): number };

const literal = (what: string, value: string): Needle => ({ what, find: (line) => line.indexOf(value) });
/** Secrets, tokens and passwords are base64url or hex words; digits inside a longer number (a timestamp) are no code. */
const SECRET_WORD = /[A-Za-z0-9_-]{6,}/g;
const CODE_WORD = /(?<!\d)\d{8}(?!\d)/g;

/** Hex dumps of UTF-8 and of the card's UTF-16LE: the forms a name or number takes at debug level. */
function hexForms(what: string, value: string): Needle[] {
  return [literal(`${what} (UTF-8 hex)`, Buffer.from(value).toString('hex')), literal(`${what} (UTF-16LE hex)`, Buffer.from(value, 'utf16le').toString('hex'))];
}

/**
 * Needles only tried on lines that pass `guard` (CJK text, a hex run): most lines have
 * neither, and a full run has tens of thousands of lines.
 */
function guarded(guard: RegExp, needles: Needle[]): Needle[] {
  let lastLine: string | undefined;
  let lastPass = false;
  const passes = (line: string) => {
    if (line !== lastLine) [lastLine, lastPass] = [line, guard.test(line)];
    return lastPass;
  };
  return needles.map((n) => ({ what: n.what, find: (line) => (passes(line) ? n.find(line) : -1) }));
}

const ID_NUMBER = /(?<!\d)\d{17}[\dXx](?!\d)/g;
/** 32 random bytes as base64url: device secrets, staff tokens, session ids (PROTOCOL.md §1). */
const TOKEN = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g;

/** Any GB 11643 number with a valid check character, whoever made it up. */
const idNumberPattern: Needle = {
  what: 'an ID number',
  find: (line) => [...line.matchAll(ID_NUMBER)].find((m) => checkCharacter(m[0].slice(0, 17)) === m[0][17]!.toUpperCase())?.index ?? -1,
};

/** Mixed case and digits: what a random secret looks like, not a word or a hex digest. */
const tokenPattern: Needle = {
  what: 'a 43-character secret',
  find: (line) => [...line.matchAll(TOKEN)].find((m) => /[a-z]/.test(m[0]) && /[A-Z]/.test(m[0]) && /\d/.test(m[0]))?.index ?? -1,
};

const SOURCE_DIRS = ['../../tests/', '../../firmware-sim/'].map((d) => new URL(d, import.meta.url).pathname);
const NAME_LITERAL = /(?:\b(?:name|guestName)['"]?\s*:\s*|\bcardOf\(\s*)['"]([^'"\n]{2,40})['"]/g;
/** A card's address: after a CJK name in the same object (a unit's address is no personal data). */
const ADDRESS_LITERAL = /\bname['"]?\s*:\s*['"][\u3400-\u9fff·]{2,}['"][^}]{0,200}?\baddress['"]?\s*:\s*['"]([^'"\n]{6,80})['"]/g;
const ID_LITERAL = /['"](\d{17}[\dXx])['"]/g;
const CJK = /[\u3400-\u9fff]/;
/** A hex dump: longer than a millisecond timestamp. */
const HEX_RUN = /[0-9a-f]{16}/i;
/** A CJK value that is no masked expectation (`欧***`) from a test. */
const plainCjk = (value: string) => CJK.test(value) && !value.includes('*');

function sourceTexts(): string[] {
  return SOURCE_DIRS.flatMap((dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') || f.endsWith('.json'))
    .map((f) => readFileSync(join(dir, f), 'utf8')));
}

/** Names of the SAM fixtures' cards, decoded the way the gateway does (PROTOCOL.md §3). */
function fixtureCards(): Array<{ name: string; idNumber: string; address: string }> {
  return samFixtureNames().flatMap((name) => {
    const [parsed] = new SamParser().push(readHexFixture(name));
    if (!parsed?.ok || parsed.frame.dir !== 'response') return [];
    const card = decodeCard(parsed.frame.data);
    return card.ok ? [card.card] : [];
  });
}

/** The personal data the tests use: fixture cards, and names, addresses and ID numbers written in test and simulator sources. */
export function personalDataNeedles(): Needle[] {
  const sources = sourceTexts();
  const grab = (re: RegExp) => sources.flatMap((t) => [...t.matchAll(re)].map((m) => m[1]!));
  const cards = fixtureCards();
  const names = new Set([...grab(NAME_LITERAL), ...cards.map((c) => c.name)].filter(plainCjk));
  const addresses = new Set([...grab(ADDRESS_LITERAL), ...cards.map((c) => c.address)].filter(plainCjk));
  const ids = new Set([...grab(ID_LITERAL), ...cards.map((c) => c.idNumber)].map((id) => id.toUpperCase()));
  const texts: Array<[string, string]> = [...[...names].map((n): [string, string] => [`the name ${maskName(n)}`, n]), ...[...addresses].map((a): [string, string] => [`the address ${maskName(a)}`, a])];
  return [
    idNumberPattern,
    tokenPattern,
    ...guarded(CJK, texts.map(([what, value]) => literal(what, value))),
    ...guarded(HEX_RUN, [...texts, ...[...ids].map((id): [string, string] => [`ID number ${maskIdNumber(id)}`, id])].flatMap(([what, value]) => hexForms(what, value))),
  ];
}

/** The first match of `re` in `line` that `wanted` accepts, or -1. */
function firstMatch(line: string, re: RegExp, wanted: (m: string) => boolean): number {
  for (const m of line.matchAll(re)) if (wanted(m[0])) return m.index;
  return -1;
}

/**
 * The secrets and codes recorded during the run in `dir`. A run records thousands, so each
 * line is cut into candidate words looked up in a set, rather than searched per secret.
 */
export function recordedNeedles(dir: string): Needle[] {
  const values = new Set(readdirSync(dir).filter((f) => f.startsWith(SECRETS_PREFIX))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean)));
  const codes = new Set([...values].filter((v) => CODE.test(v)));
  const secrets = new Set([...values].filter((v) => !CODE.test(v)));
  return [
    { what: 'a recorded secret', find: (line) => firstMatch(line, SECRET_WORD, (w) => secrets.has(w)) },
    { what: 'recorded code digits', find: (line) => firstMatch(line, CODE_WORD, (w) => codes.has(w)) },
  ];
}

/** Each offending line, shown with the plain value cut out. */
export function findLeaks(lines: readonly string[], needles: readonly Needle[], label: string): string[] {
  const findings: string[] = [];
  lines.forEach((line, i) => {
    for (const needle of needles) {
      const at = needle.find(line);
      if (at < 0) continue;
      findings.push(`${label}:${i + 1}: ${needle.what} at column ${at}: ${line.slice(Math.max(0, at - 80), at)}«…»`);
      break;
    }
  });
  return findings;
}

/** Scans the run's log file(s) in `dir` for every needle. */
export function scanLogDir(dir: string): { lines: number; findings: string[] } {
  const needles = [...personalDataNeedles(), ...recordedNeedles(dir)];
  let lines = 0;
  const findings = readdirSync(dir).filter((f) => f.endsWith('.log')).flatMap((file) => {
    const text = readFileSync(join(dir, file), 'utf8').split('\n');
    lines += text.length;
    return findLeaks(text, needles, file);
  });
  return { lines, findings };
}
