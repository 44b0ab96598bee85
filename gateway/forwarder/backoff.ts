// Reconnect delays for the upstream session (PROTOCOL.md §2). MQTT.js only knows a fixed
// reconnectPeriod, so the forwarder turns it off and schedules attempts with these
// delays: exponential, capped, with jitter so a city's gateways do not reconnect in step
// after a platform outage.

export type BackoffOptions = {
  /** The first delay's upper bound. */
  baseMs: number;
  /** No delay exceeds this. */
  maxMs: number;
};

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/**
 * The delay before attempt `attempt` (0 first): "equal jitter", uniform in [cap/2, cap]
 * with cap = min(maxMs, baseMs·2^attempt). Half is fixed so a retry never comes
 * immediately; half is random to spread the herd.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const cap = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + (random() * cap) / 2);
}
