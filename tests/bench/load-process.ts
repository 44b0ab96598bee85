// The background load of a benchmark in its own process, so the process that timestamps
// alarms is not also the one generating thousands of events per second (its event loop
// would delay the very receipts it measures). `tsx tests/bench/load-process.ts '<json>'`
// with LoadOptions as JSON; runs until SIGTERM.
import { LoadGenerator, type LoadOptions } from '../../firmware-sim/load.ts';

const load = new LoadGenerator(JSON.parse(process.argv[2]!) as LoadOptions);
load.start();
process.on('SIGTERM', () => void load.stop().then(() => process.exit(0)));
