// The front-desk console's view of the gateway for the check-in benchmark: the
// Server-Sent Events stream of INTERFACES.md (GET /api/events), read over a plain
// node:http socket with the clerk's Bearer token, as the console's EventSource would.
import { request, type ClientRequest } from 'node:http';

type Waiter = { name: string; resolve: (event: { data: Record<string, unknown>; at: number }) => void };

export type ConsoleEvents = {
  /** The next `name` event after this call, with the time it arrived. */
  next(name: string): Promise<{ data: Record<string, unknown>; at: number }>;
  close(): void;
};

export function openConsoleEvents(httpUrl: string, token: string): Promise<ConsoleEvents> {
  const waiters: Waiter[] = [];
  let req: ClientRequest;
  const dispatch = (block: string, at: number) => {
    const name = /^event: (.+)$/m.exec(block)?.[1];
    const data = /^data: (.+)$/m.exec(block)?.[1];
    if (name === undefined || data === undefined) return;
    const i = waiters.findIndex((w) => w.name === name);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve({ data: JSON.parse(data) as Record<string, unknown>, at });
  };
  return new Promise((resolve, reject) => {
    req = request(`${httpUrl}/api/events`, { headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET /api/events: ${res.statusCode}`));
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const at = performance.now();
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          dispatch(buffered.slice(0, end), at);
          buffered = buffered.slice(end + 2);
        }
      });
      resolve({
        next: (name) => new Promise((done) => waiters.push({ name, resolve: done })),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
