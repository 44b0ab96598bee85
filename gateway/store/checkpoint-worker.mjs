// The WAL checkpointer's thread (started by checkpointer.ts; ARCHITECTURE.md "SQLite").
// Its own connection copies committed WAL frames into the database file with PASSIVE
// checkpoints, which never block the gateway's writer, so the copy and its fsyncs run
// off the gateway's event loop. Plain JavaScript: a worker thread does not inherit the
// tsx loader the CLI registers.
//
// The WAL starts over only when a write begins with every frame copied, which never
// happens while commits keep coming. So past `restartPages`, while the WAL grows, the
// thread asks the gateway to hold its ordinary commits, copies the few frames committed
// since, and lets go: the gateway's next commit starts the WAL over.
// Messages: to the gateway { failed }, { hold }, { resume }; from it 'held' and 'stop'.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = FULL');
let lastError = '';
let holding = false;
/** The WAL's size at the last tick, in pages. */
let lastLog = 0;

/** The WAL's size in pages, or undefined if the checkpoint failed. */
function checkpoint() {
  try {
    const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)');
    lastError = '';
    return log;
  } catch (err) {
    // A full disk fails the copy; the frames stay in the WAL and the next tick retries.
    const code = String(err?.code ?? err?.message);
    if (code !== lastError) parentPort.postMessage({ failed: code });
    lastError = code;
    return undefined;
  }
}

const timer = setInterval(() => {
  if (holding) return;
  const log = checkpoint();
  if (log === undefined) return;
  // Without new commits the next one starts the WAL over by itself: no hold.
  const growing = log !== lastLog;
  lastLog = log;
  if (!growing || log < workerData.restartPages) return;
  holding = true;
  parentPort.postMessage({ hold: true });
}, workerData.intervalMs);

parentPort.on('message', (message) => {
  if (message === 'held') {
    checkpoint();
    holding = false;
    parentPort.postMessage({ resume: true });
    return;
  }
  clearInterval(timer); // 'stop'
  db.close();
  parentPort.close();
});
