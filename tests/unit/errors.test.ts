import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../protocol/errors.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('error registry', () => {
  it('documents every code in the README, and only those', () => {
    const documented = new Set(readme.match(/\bMW_[A-Z0-9_]+\b/g) ?? []);
    expect([...documented].sort()).toEqual(Object.keys(ERRORS).sort());
  });

  it('shows each code with its registry message', () => {
    for (const [code, message] of Object.entries(ERRORS)) expect(readme).toContain(`| \`${code}\` | ${message.en} |`);
  });

  it('gives every code a message in English and Chinese', () => {
    for (const [code, message] of Object.entries(ERRORS)) {
      expect(message.en.length, code).toBeGreaterThan(5);
      expect(message.zh.length, code).toBeGreaterThan(1);
    }
  });
});
