// Provisioning commands write to the same database as a running gateway, which picks the
// change up without a restart (INTERFACES.md).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { openDatabase, type Db } from '../store/db.ts';

export function withStore<T>(configFile: string | undefined, body: (db: Db, config: Config) => T): T {
  const config = loadConfig(configFile);
  mkdirSync(config.dataDir, { recursive: true });
  const db = openDatabase(join(config.dataDir, 'menwei.db'));
  try {
    return body(db, config);
  } finally {
    db.close();
  }
}
