// `menwei sam decode [FILE]` (INTERFACES.md): a field technician pastes a capture from a
// reader and sees every frame, or exactly what is wrong with it. One JSON line per frame
// on stdout (the contract); a readable line per frame on stderr.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SamParser, decodeCard, describeSw3, type SamFrame, type SamParseResult } from '../../protocol/sam/index.ts';
import { maskIdNumber, maskName } from '../../protocol/id-number.ts';
import { MenweiError } from '../../protocol/errors.ts';
import { EXIT, printJson, run, say } from './io.ts';

const HEX_TEXT = /^(?:\s|0x|[0-9a-fA-F]{2}|,)*$/;

/** A hex text capture ("AA AA AA 96 69 …", with or without 0x and commas), else raw binary. */
export function captureBytes(input: Buffer): Buffer {
  const text = input.toString('latin1');
  if (input.length > 0 && HEX_TEXT.test(text)) return Buffer.from(text.replace(/0x|[\s,]/g, ''), 'hex');
  return input;
}

/** A response with SW3 90 and more than the 8 data bytes of "select ok" carries a card. */
function isReadResponse(frame: SamFrame): boolean {
  return frame.dir === 'response' && frame.sw3 === 0x90 && frame.data.length > 8;
}

export function describeFrame(result: SamParseResult): { json: Record<string, unknown>; human: string } {
  if (!result.ok) {
    const { code, offset, detail } = result.error;
    return { json: { ok: false, error: code, offset }, human: `@${offset}: ${code}${detail ? ` (${detail})` : ''}` };
  }
  const frame = result.frame;
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
  if (frame.dir === 'command') {
    return { json: { ok: true, dir: 'command', cmd: hex(frame.cmd), para: hex(frame.para) }, human: `@${frame.offset}: command ${hex(frame.cmd)} ${hex(frame.para)}` };
  }
  const base = { ok: true, dir: 'response', sw3: hex(frame.sw3) };
  const status = `@${frame.offset}: response SW3 ${hex(frame.sw3)} (${describeSw3(frame.sw3)})`;
  if (!isReadResponse(frame)) return { json: base, human: status };
  const decoded = decodeCard(frame.data);
  if (!decoded.ok) {
    const { code, field } = decoded.error;
    return { json: { ok: false, error: code, offset: frame.offset }, human: `${status}: ${code}${field ? ` in ${field}` : ''}` };
  }
  const { card } = decoded;
  return { json: { ...base, card }, human: `${status}: ${card.docType} ${maskName(card.name)} ${maskIdNumber(card.idNumber)}` };
}

export function registerSamDecode(program: Command): void {
  program.command('sam').description('SAM ID-card reader tools')
    .command('decode').description('decode SAM frames from a hex text or raw binary capture (stdin without FILE)')
    .argument('[file]', 'capture file')
    .action((file: string | undefined) => run(() => {
      let input: Buffer;
      try {
        input = readFileSync(file ?? 0);
      } catch (err) {
        throw new MenweiError('MW_INPUT_UNREADABLE', `${file ?? 'stdin'}: ${(err as NodeJS.ErrnoException).code ?? err}`);
      }
      const parser = new SamParser();
      const results = [...parser.push(captureBytes(input)), ...parser.end()];
      let failed = false;
      for (const result of results) {
        const { json, human } = describeFrame(result);
        failed ||= json.ok === false;
        printJson(json);
        say(human);
      }
      say(`${results.length} frame(s), ${parser.skippedBytes} byte(s) skipped`);
      return failed ? EXIT.no : EXIT.ok;
    }));
}
