// The gateway's HTTP side (INTERFACES.md HTTP API): health and metrics now; the check-in
// API and the console register their routes on the same fastify instance.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { isLoopback } from '../net.ts';
import type { Logger } from '../logger.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { Outbox } from '../outbox/outbox.ts';
import { apiError } from './errors.ts';

export type HealthSources = {
  outbox: Outbox;
  upstreamState: () => 'connected' | 'down' | 'stalled' | 'none';
  storageFailing: () => boolean;
};

export function createHttpServer(opts: { logger: Logger; metrics: GatewayMetrics; health: HealthSources }): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
    // A URL with broken percent-encoding fails in the router, before any hook or error
    // handler: it gets the one error shape too, without the URL, which may carry what a
    // guest typed, and is counted here since onResponse does not run for it.
    frameworkErrors: (error, _req, reply) => {
      opts.metrics.httpErrors.inc({ status: '400' });
      const why = error.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid percent-encoding' : 'the URL is not valid';
      return apiError(reply, 'BAD_REQUEST', why);
    },
  });
  // A refused request is bad input like a bad device message (issue 9): counted, whichever
  // route or hook refused it.
  app.addHook('onResponse', async (_req, reply) => {
    if (reply.statusCode >= 400) opts.metrics.httpErrors.inc({ status: String(reply.statusCode) });
  });
  app.get('/healthz', async (_req, reply) => {
    const status = opts.health.outbox.status();
    const pending = Object.values(status.classes).reduce((n, c) => n + c.pending, 0);
    const oldest = Math.max(0, ...Object.values(status.classes).map((c) => c.oldestAgeS));
    const diskFull = opts.health.storageFailing();
    // ARCHITECTURE.md invariant 5: /healthz says so when the store refuses writes.
    if (diskFull) reply.code(503);
    return {
      ok: !diskFull,
      broker: 'up',
      upstream: opts.health.upstreamState(),
      outboxPending: pending,
      oldestPendingAgeS: oldest,
      ...(diskFull ? { diskFull: true } : {}),
    };
  });
  app.get('/metrics', async (req, reply) => {
    // INTERFACES.md: no auth on loopback; elsewhere metrics are not served.
    if (!isLoopback(req.socket.remoteAddress ?? '')) return reply.code(403).send({ error: { code: 'FORBIDDEN', message: { zh: '仅限本机访问', en: 'metrics are served on loopback only' } } });
    reply.type(opts.metrics.registry.contentType);
    return opts.metrics.registry.metrics();
  });
  return app;
}
