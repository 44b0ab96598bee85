// `menwei unit qr CODE` (INTERFACES.md): the unit's QR door plate as SVG on stdout.
// CHECKIN.md Objects: the plate encodes the unit code, so the QR holds exactly the code,
// with no scheme or URL around it: whoever scans it (the platform's app, an inspector)
// reads the listing code itself. The code is also printed under the QR, for people.
import type { Command } from 'commander';
import QRCode from 'qrcode';
import { UnitStore } from '../store/units.ts';
import { EXIT, run, say } from './io.ts';
import { withStore } from './store.ts';

/** Plate width in SVG user units; the caption sits under the square QR. */
const PLATE = 400;
const CAPTION = 90;

export function registerUnitQr(program: Command): void {
  // `unit add` registers the `unit` command (provision.ts); `qr` joins it.
  const unit = program.commands.find((c) => c.name() === 'unit') ?? program.command('unit').description('units (房源)');
  unit.command('qr').description('the QR door plate as SVG on stdout')
    .argument('<code>', 'unit code')
    .option('--config <file>', 'config file')
    .action((code: string, opts: { config?: string }) => run(async () => {
      const found = withStore(opts.config, (db) => new UnitStore(db).find(code));
      if (!found) {
        say(`menwei: no unit ${code}`);
        return EXIT.no;
      }
      process.stdout.write(await doorPlate(found.code));
      return EXIT.ok;
    }));
}

/** The QR (error correction M, 4-module quiet zone) on top, the code as text under it. */
async function doorPlate(code: string): Promise<string> {
  const qr = (await QRCode.toString(code, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 })).trim();
  const inner = qr.replace('<svg ', `<svg x="0" y="0" width="${PLATE}" height="${PLATE}" `);
  const text = escapeXml(code);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${PLATE}" height="${PLATE + CAPTION}" viewBox="0 0 ${PLATE} ${PLATE + CAPTION}">`,
    `<title>${text}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    inner,
    `<text x="${PLATE / 2}" y="${PLATE + 30}" text-anchor="middle" font-family="sans-serif" font-size="20">房源编号 Unit</text>`,
    `<text x="${PLATE / 2}" y="${PLATE + 68}" text-anchor="middle" font-family="monospace" font-size="32" font-weight="bold">${text}</text>`,
    '</svg>',
    '',
  ].join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
