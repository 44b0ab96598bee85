// A small PKI for TLS tests (PROTOCOL.md §2: TLS with an optional client certificate): a
// CA, a server certificate for 127.0.0.1 and a client certificate it signs, a server
// certificate for another host name under the same CA, and an unrelated CA. Made with
// the selfsigned package, as gateway/tls.ts does; written as PEM files for configs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

const DAY_MS = 86_400_000;
type Pem = { cert: string; key: string };
type Extensions = NonNullable<Parameters<typeof generate>[1]>['extensions'];

export type PkiFiles = { cert: string; key: string };
export type TestPki = {
  dir: string;
  /** The CA the gateway and Mosquitto trust. */
  ca: string;
  /** A CA nobody here trusts. */
  otherCa: string;
  server: PkiFiles;
  /** Signed by the right CA, but for `other.example`, not 127.0.0.1. */
  wrongNameServer: PkiFiles;
  client: PkiFiles;
};

async function make(commonName: string, extensions: Extensions, ca?: Pem): Promise<Pem> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec', algorithm: 'sha256', notBeforeDate: new Date(now - DAY_MS), notAfterDate: new Date(now + 30 * DAY_MS), extensions, ...(ca ? { ca } : {}),
  });
  return { cert: pems.cert, key: pems.private };
}

const CA_EXTENSIONS: Extensions = [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }];
const leaf = (usage: 'serverAuth' | 'clientAuth', altNames: Array<{ type: 2; value: string } | { type: 7; ip: string }>): Extensions => [
  { name: 'basicConstraints', cA: false },
  { name: 'keyUsage', digitalSignature: true, keyAgreement: true },
  { name: 'extKeyUsage', [usage]: true },
  { name: 'subjectAltName', altNames },
];

export async function testPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'menwei-pki-'));
  const ca = await make('Menwei test CA', CA_EXTENSIONS);
  const otherCa = await make('Someone else\'s CA', CA_EXTENSIONS);
  const server = await make('127.0.0.1', leaf('serverAuth', [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }]), ca);
  const wrongName = await make('other.example', leaf('serverAuth', [{ type: 2, value: 'other.example' }]), ca);
  const client = await make('gw-tls', leaf('clientAuth', [{ type: 2, value: 'gw-tls' }]), ca);
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const pair = (name: string, pem: Pem): PkiFiles => ({ cert: write(`${name}.pem`, pem.cert), key: write(`${name}-key.pem`, pem.key) });
  return {
    dir,
    ca: write('ca.pem', ca.cert),
    otherCa: write('other-ca.pem', otherCa.cert),
    server: pair('server', server),
    wrongNameServer: pair('wrong-name-server', wrongName),
    client: pair('client', client),
  };
}
