// Test vectors of tests/fixtures (copied from the shared fixtures, see its README.md).
// Paths resolve from this file, so tests run from any working directory.
import { readFileSync, readdirSync } from 'node:fs';

const SAM_DIR = new URL('../fixtures/sam/', import.meta.url);

/** The bytes of tests/fixtures/sam/<name>.hex (space-separated hex). */
export function readHexFixture(name: string): Buffer {
  const text = readFileSync(new URL(`${name}.hex`, SAM_DIR), 'utf8').trim();
  const tokens = text.split(/\s+/);
  if (!tokens.every((t) => /^[0-9a-fA-F]{2}$/.test(t))) throw new Error(`fixture ${name} is not space-separated hex`);
  return Buffer.from(tokens.join(''), 'hex');
}

/** Every SAM fixture name (without .hex), so a test can check that none is left out. */
export function samFixtureNames(): string[] {
  return readdirSync(SAM_DIR)
    .filter((file) => file.endsWith('.hex'))
    .map((file) => file.slice(0, -'.hex'.length))
    .sort();
}
