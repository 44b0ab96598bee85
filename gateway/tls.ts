// Self-signed TLS material for the demo and the tests (issue 3: made with a maintained
// package, not by hand). For "localhost", selfsigned adds 127.0.0.1 to the names, so
// loopback clients can verify it.
import { generate } from 'selfsigned';

export type TlsPair = { cert: string; key: string };

const DAY_MS = 86_400_000;

export async function selfSignedPair(commonName = 'localhost', days = 365): Promise<TlsPair> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - DAY_MS),
    notAfterDate: new Date(now + days * DAY_MS),
  });
  return { cert: pems.cert, key: pems.private };
}
