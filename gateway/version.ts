import { createRequire } from 'node:module';

/** The package version, reported in `gateway/started` (PROTOCOL.md §2.1). */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
