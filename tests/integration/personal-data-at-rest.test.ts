// Personal data at rest (ARCHITECTURE.md invariants 7–8, CHECKIN.md "Codes"): after a
// walk-in, a booking guest and a visitor, neither the SQLite file nor its WAL holds an ID
// number, a name, an address or a code in plain form, in any of the encodings they
// travel in (ASCII and UTF-8 in JSON, UTF-16LE on the card). The console API masks them.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DESK, PHOTO, UNIT, cardFor, startScene, type Scene } from '../helpers/checkin-setup.ts';
import { playCheckinDay } from '../helpers/checkin-day.ts';

const GUEST = cardFor('11010519491231002X', { name: '欧阳明月', address: '浙江省杭州市西湖区文三路478号' });
const BOOKED = cardFor('320402199003071235', { name: '司马相如', address: '四川省成都市武侯区人民南路四段9号' });
const VISITOR = cardFor('360426199101010071', { name: '诸葛孔明', address: '湖北省襄阳市隆中路1号' });
const PEOPLE = [GUEST, BOOKED, VISITOR];

let scene: Scene | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await scene?.stop({ keepData: true });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  scene = undefined;
  dataDir = undefined;
});

/** Every byte string that must not rest on disk, named for the failure message. */
function secrets(codes: string[]): Array<[string, Buffer]> {
  const both = (what: string, text: string): Array<[string, Buffer]> => [[`${what} (UTF-8)`, Buffer.from(text, 'utf8')], [`${what} (UTF-16LE)`, Buffer.from(text, 'utf16le')]];
  return [
    ...PEOPLE.flatMap((p) => [...both(`ID ${p.idNumber}`, p.idNumber), ...both(`name ${p.name}`, p.name), ...both(`address of ${p.name}`, p.address)]),
    ...codes.map((code): [string, Buffer] => [`code ${code}`, Buffer.from(code, 'ascii')]),
    ['64 bytes of the card photo', PHOTO.subarray(100, 164)],
  ];
}

/** The names of the secrets found in any file of the data directory (menwei.db, -wal, -shm). */
function leaks(dir: string, codes: string[]): string[] {
  const files = readdirSync(dir).filter((f) => f.startsWith('menwei.db'));
  expect(files).toContain('menwei.db');
  const contents = files.map((file) => [file, readFileSync(join(dir, file))] as const);
  // A control: what may rest in plain form is found, so the scan does see the data.
  expect(contents.some(([, bytes]) => bytes.includes(Buffer.from(`${UNIT}","occupants"`)))).toBe(true);
  return contents.flatMap(([file, bytes]) => secrets(codes).filter(([, secret]) => bytes.includes(secret)).map(([what]) => `${what} in ${file}`));
}

describe('personal data at rest', () => {
  it('menwei.db and its WAL hold no plain ID number, name, address or code after a walk-in, a booking and a visitor', async () => {
    const s = (scene = await startScene());
    dataDir = s.tg.dataDir;
    const { codes } = await playCheckinDay(s, { walkIn: GUEST, booked: BOOKED, visitor: VISITOR });
    expect(codes).toHaveLength(4);
    expect(s.events('registration/checkin')).toHaveLength(2); // the registrations are there, sealed

    // While running: the WAL holds the recent commits.
    expect(leaks(dataDir, codes)).toEqual([]);
    await s.stop({ keepData: true });
    scene = undefined;
    expect(leaks(dataDir, codes)).toEqual([]);
  });

  it('GET /api/reads shows the ID number and the name masked', async () => {
    const s = (scene = await startScene());
    dataDir = s.tg.dataDir;
    const readId = await s.networkRead(GUEST);
    s.verify(readId);
    const res = await s.get(`/api/reads?desk=${DESK}`);
    expect(res.status).toBe(200);
    const read = (res.body.reads as Array<{ readId: string; card: Record<string, unknown>; verification: { state: string } }>).find((r) => r.readId === readId);
    expect(read?.card).toMatchObject({ idNumber: '110105********002X', name: '欧***', docType: 'resident' });
    expect(read?.verification.state).toBe('received');
    const text = JSON.stringify(res.body);
    for (const secret of [GUEST.idNumber, GUEST.name, GUEST.address]) expect(text).not.toContain(secret);
  });
});
