// The log scan of the whole run (issue 9, tests/security/log-scan.setup.ts): it is on in
// this very run, it sees the lines of in-process and child gateways, and it finds each
// kind of leak in each form it travels in, while masked values pass.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../gateway/logger.ts';
import { maskIdNumber, maskName } from '../../protocol/id-number.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { gatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { idNumber } from '../helpers/checkin-setup.ts';
import { LOG_FILE_NAME, SCAN_DIR_VAR, findLeaks, personalDataNeedles, recordSecrets, recordedNeedles, scanLogDir } from '../helpers/log-scan.ts';
import { until } from '../helpers/wait.ts';

const runLog = () => (existsSync(process.env.MENWEI_LOG_FILE!) ? readFileSync(process.env.MENWEI_LOG_FILE!, 'utf8') : '');

let gw: TestGateway | undefined;
let proc: GatewayProcess | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await gw?.stop();
  await proc?.destroy();
  [gw, proc] = [undefined, undefined];
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'menwei-scan-test-'));
  dirs.push(dir);
  return dir;
}

describe('the log scan covers the whole run', () => {
  it('is on: every worker logs at debug level into the scanned file', () => {
    const dir = process.env[SCAN_DIR_VAR];
    expect(dir).toBeTruthy();
    expect(process.env.MENWEI_LOG_FILE).toBe(join(dir!, LOG_FILE_NAME));
    expect(process.env.MENWEI_LOG_LEVEL).toBe('debug');
  });

  it('holds the lines of an in-process gateway and of a child-process gateway', async () => {
    gw = await startTestGateway();
    const inProcess = gw.gateway.bootId;
    proc = await gatewayProcess();
    await proc.start();
    await proc.stop();
    await until(() => runLog().includes(inProcess) && runLog().includes(`"broker":${new URL(proc!.brokerUrl).port}`), 10_000);
  });

  it('records the secrets the helpers hand out, for the scan at the end', async () => {
    gw = await startTestGateway();
    const lock = gw.provision('lock', 'lock-recorded');
    const [secret] = recordedNeedles(process.env[SCAN_DIR_VAR]!);
    expect(secret!.find(`x ${lock.secret}`)).toBe(2);
    expect(secret!.find(`x ${lock.codeKey}`)).toBe(2);
  });
});

describe('what the scan finds', () => {
  const needles = personalDataNeedles();
  const leaks = (line: string) => findLeaks([line], needles, 'test');

  it('finds an ID number with a valid check character, even one no fixture has, and glued to letters', () => {
    const made = idNumber('1987-06-05', 123, '440305');
    expect(leaks(`{"msg":"guest ${made} refused"}`)).toHaveLength(1);
    expect(leaks(`{"msg":"id${made}x"}`)).toHaveLength(1);
    expect(leaks(`{"idNumber":"${maskIdNumber(made)}"}`)).toEqual([]);
    // 18 digits with a wrong check character are no ID number (a timestamp in ns, say).
    expect(leaks(`{"t":"${made.slice(0, 17)}${made[17] === '0' ? '1' : '0'}"}`)).toEqual([]);
  });

  it('finds a fixture name in text, in a UTF-16LE hex dump, and a fixture address; masked names pass', () => {
    expect(leaks('{"msg":"card read for 欧阳明月"}')[0]).toContain('the name 欧***');
    expect(leaks(`{"hex":"0000${Buffer.from('李建国', 'utf16le').toString('hex')}00"}`)[0]).toContain('UTF-16LE hex');
    expect(leaks('{"where":"浙江省杭州市西湖区文三路478号"}')).toHaveLength(1);
    expect(leaks(`{"name":"${maskName('欧阳明月')}","msg":"check-in refused"}`)).toEqual([]);
  });

  it('finds anything shaped like a device secret or token, but not hex digests or ULIDs', () => {
    expect(leaks(`{"password":"${'Ab3'.repeat(14)}x"}`)).toHaveLength(1);
    expect(leaks(`{"sha256":"${'ab12'.repeat(16)}","eventId":"01JDXQ5M8Z3V4N7P2R6T9W0Y1B"}`)).toEqual([]);
  });

  it('finds recorded code digits on their own, not inside a longer number', () => {
    const dir = scratch();
    const previous = process.env[SCAN_DIR_VAR];
    process.env[SCAN_DIR_VAR] = dir;
    try {
      recordSecrets({ codes: [{ codeId: 'c_1', code: '48213907' }], token: 'T0ken-recorded-for-the-test' });
    } finally {
      process.env[SCAN_DIR_VAR] = previous;
    }
    const recorded = recordedNeedles(dir);
    expect(findLeaks(['{"msg":"code 48213907 issued"}'], recorded, 't')).toHaveLength(1);
    expect(findLeaks(['{"time":1796048213907123}'], recorded, 't')).toEqual([]);
    expect(findLeaks(['{"authorization":"Bearer T0ken-recorded-for-the-test"}'], recorded, 't')).toHaveLength(1);
  });

  it('scans every .log file of a directory with the recorded secrets, and names file and line', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'secrets-1.txt'), 'S3cret-of-a-device\n');
    writeFileSync(join(dir, 'a.log'), '{"msg":"fine"}\n{"msg":"connect S3cret-of-a-device"}\n');
    const { findings } = scanLogDir(dir);
    expect(findings).toEqual([expect.stringMatching(/^a\.log:2: a recorded secret at column \d+: .*connect «…»$/)]);
  });
});

describe('MENWEI_LOG_FILE', () => {
  it('appends masked lines to the file instead of stderr', async () => {
    const file = join(scratch(), 'nested', 'gateway.log');
    const previous = process.env.MENWEI_LOG_FILE;
    process.env.MENWEI_LOG_FILE = file;
    const logger = createLogger({ level: 'info' });
    process.env.MENWEI_LOG_FILE = previous;
    logger.info({ idNumber: '11010519491231002X', name: '张三' }, 'card read');
    await until(() => existsSync(file) && readFileSync(file, 'utf8').includes('card read'), 5_000);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ idNumber: '110105********002X', name: '张*', msg: 'card read' });
  });
});
