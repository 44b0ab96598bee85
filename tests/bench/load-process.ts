// The background load of a benchmark in its own process, so the process that timestamps
// alarms is not also the one generating thousands of events per second (its event loop
// would delay the very receipts it measures). `tsx tests/bench/load-process.ts '<json>'`
// with LoadOptions as JSON; prints `flowing` once a second's worth of events was
// acknowledged, and runs until SIGTERM.
import { LoadGenerator, type LoadOptions } from '../../firmware-sim/load.ts';

const opts = JSON.parse(process.argv[2]!) as LoadOptions;
const load = new LoadGenerator(opts);
load.start();
const watch = setInterval(() => {
  if (load.acked.size < (opts.ratePerSec ?? 1)) return;
  clearInterval(watch);
  process.stdout.write('flowing\n');
}, 50);
process.on('SIGTERM', () => void load.stop().then(() => process.exit(0)));
