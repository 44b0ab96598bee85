import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/logger.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _enc, cb) { lines.push(chunk.toString()); cb(); } });
  return { lines, logger: createLogger({ level: 'debug', destination }) };
}

describe('logging with personal data masked (PROTOCOL.md §0)', () => {
  it('masks ID numbers and names in fields and in messages, and redacts secrets', () => {
    const { lines, logger } = capture();
    logger.info({ card: { idNumber: '11010519491231002X', name: '欧阳修', address: '北京市' }, secret: 'abc', password: 'p' }, 'read 11010519491231002X at desk');
    const text = lines.join('');
    expect(text).not.toContain('11010519491231002X');
    expect(text).not.toContain('欧阳修');
    expect(text).not.toContain('北京市');
    expect(text).not.toContain('"abc"');
    expect(text).toContain('110105********002X');
    expect(text).toContain('欧**');
  });

  it('keeps error codes readable', () => {
    const { lines, logger } = capture();
    logger.warn({ code: 'MW_SAM_BAD_CHECKSUM', offset: 15 }, 'bad frame');
    expect(lines.join('')).toContain('MW_SAM_BAD_CHECKSUM');
  });
});
