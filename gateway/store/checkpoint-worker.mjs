// The WAL checkpointer's thread (started by checkpointer.ts; ARCHITECTURE.md "SQLite").
// Its own connection copies committed WAL frames into the database file with PASSIVE
// checkpoints, which never block the gateway's writer, so the copy and its fsyncs run
// off the gateway's event loop. Plain JavaScript: a worker thread does not inherit the
// tsx loader the CLI registers.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = FULL');
let lastError = '';
// Past the backstop the gateway's connection checkpoints by itself after its next
// commit; one tick off lets it do so uncontended, and the WAL starts over.
let yieldTick = false;

const timer = setInterval(() => {
  if (yieldTick) {
    yieldTick = false;
    return;
  }
  try {
    const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)');
    yieldTick = log >= workerData.backstopPages;
    lastError = '';
  } catch (err) {
    // A full disk fails the copy; the frames stay in the WAL and the next tick retries.
    const code = String(err?.code ?? err?.message);
    if (code !== lastError) parentPort.postMessage({ failed: code });
    lastError = code;
  }
}, workerData.intervalMs);

parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
