// The long soak: many more randomized simulator seeds than the test suite runs, with progress.
//   npm run soak -- [--seeds N] [--from S] [--fault-ms MS]
// Prints failing seeds (replay with `npm run sim -- --seed S`) and a summary; exits 1 on failure.
import { parseArgs } from 'node:util';
import { runSeed } from '../src/sim/nemesis.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '10000' },
    from: { type: 'string', default: '1' },
    'fault-ms': { type: 'string', default: '6000' },
  },
});
const count = Number(values.seeds);
const from = Number(values.from);
const faultMs = Number(values['fault-ms']);
const started = Date.now();
let failed = 0;
let acked = 0;
let virtual = 0;
let maxTerm = 0;
for (let seed = from; seed < from + count; seed++) {
  const r = runSeed(seed, {}, { faultMs });
  acked += r.writesAcked;
  virtual += r.virtualMs;
  maxTerm = Math.max(maxTerm, r.maxTerm);
  if (!r.ok) {
    failed++;
    console.log(`FAIL seed ${seed}: ${r.error}\n  replay: npm run sim -- --seed ${seed} --fault-ms ${faultMs}`);
  }
  const done = seed - from + 1;
  if (done % 250 === 0 || done === count) {
    const s = (Date.now() - started) / 1000;
    process.stderr.write(
      `  ${done}/${count} seeds, ${failed} failed, ${s.toFixed(0)} s elapsed, ~${((s / done) * (count - done)).toFixed(0)} s left\n`,
    );
  }
}
const secs = (Date.now() - started) / 1000;
console.log(
  `soak: seeds ${from}..${from + count - 1}, ${failed} failed, ${(virtual / 1000 / 60).toFixed(1)} virtual minutes, ` +
    `${acked} acknowledged writes, highest term ${maxTerm}, ${secs.toFixed(1)} s wall time`,
);
process.exitCode = failed ? 1 : 0;
