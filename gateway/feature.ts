// A feature plugs into the gateway (like a zigbee2mqtt extension): its constructor only
// assigns, it registers its device handlers, commands and HTTP routes in `attach`, and
// it has start()/stop() for timers and drivers. The composition root lists them.
import type { Gateway } from './main.ts';

export interface Feature {
  /** Registers handlers, commands and routes; runs before the gateway listens. */
  attach(gateway: Gateway): void;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}
