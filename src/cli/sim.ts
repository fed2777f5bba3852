// `raft-otel sim --seed S`: runs one randomized simulation and prints its timeline, so a failing
// seed from the test suite (or a curious learner) can watch exactly what happened.
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { runSeed, simOptionsForSeed, DEFAULT_NEMESIS } from '../sim/nemesis.js';
import { SimTracing, SIM_EPOCH_MS } from '../telemetry/sim-tracing.js';

export const simHelp = `raft-otel sim --seed S [options]

Runs the deterministic simulator for one seed: 3 or 5 nodes, clients writing and reading, and a
nemesis that crashes, restarts, partitions and replaces servers and drops, duplicates and delays
messages. Then it heals the world and checks that the cluster converged. Safety properties are
checked after every step. The same seed always produces the same run.

Options:
  --seed S           the seed to run (required)
  --fault-ms N       virtual milliseconds of faults (default ${DEFAULT_NEMESIS.faultMs})
  --settle-ms N      virtual milliseconds to converge after healing (default ${DEFAULT_NEMESIS.settleMs})
  --grep REGEX       print only timeline lines matching REGEX
  --tail N           print only the last N lines of the timeline
  --quiet            print only the verdict
  --export FILE      also write the run's traces to FILE as OTLP JSON (virtual time from
                     ${new Date(SIM_EPOCH_MS).toISOString()}): open it in the built-in viewer or Jaeger's
                     Upload tab; the same seed writes the same file
`;

export function simCommand(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string' },
      'fault-ms': { type: 'string' },
      'settle-ms': { type: 'string' },
      grep: { type: 'string' },
      tail: { type: 'string' },
      quiet: { type: 'boolean' },
      export: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(simHelp);
    return 0;
  }
  const seed = Number(values.seed);
  if (values.seed === undefined || !Number.isSafeInteger(seed)) {
    process.stderr.write('error: --seed needs an integer, e.g. raft-otel sim --seed 42\n');
    return 2;
  }
  const nem = {
    ...(values['fault-ms'] ? { faultMs: Number(values['fault-ms']) } : {}),
    ...(values['settle-ms'] ? { settleMs: Number(values['settle-ms']) } : {}),
  };
  const tracing = values.export ? new SimTracing(seed) : null;
  const result = runSeed(seed, { timeline: !values.quiet, tracing }, nem);
  if (!values.quiet) {
    let lines = result.timeline;
    if (values.grep) {
      const re = new RegExp(values.grep);
      lines = lines.filter((l) => re.test(l));
    }
    if (values.tail) lines = lines.slice(-Number(values.tail));
    process.stdout.write(lines.join('\n') + '\n\n');
  }
  const opts = simOptionsForSeed(seed);
  process.stdout.write(
    `seed ${seed}: ${opts.nodes} nodes, preVote=${opts.preVote}, checkQuorum=${opts.checkQuorum}, ` +
      `maxEntriesPerAppend=${opts.maxEntriesPerAppend}, maxInflight=${opts.maxInflight}, compactEvery=${opts.compactEvery}\n` +
      `${result.virtualMs} virtual ms, ${result.faults} faults, highest term ${result.maxTerm}, ` +
      `${result.writesAcked}/${result.writesInvoked} writes acknowledged, ${result.readsDone} reads, final commit ${result.finalCommit}\n` +
      (result.ok ? 'verdict: SAFE and converged\n' : `verdict: FAILED: ${result.error}\n`),
  );
  if (tracing && values.export) {
    const spans = tracing.finish();
    try {
      writeFileSync(values.export, tracing.otlpJson());
    } catch (e) {
      process.stderr.write(`error: cannot write ${values.export}: ${(e as Error).message}\n`);
      return 2;
    }
    const traces = new Set(spans.map((s) => s.spanContext().traceId)).size;
    process.stdout.write(
      `wrote ${spans.length} spans in ${traces} traces to ${values.export} (OTLP JSON; virtual time 0 is ${new Date(SIM_EPOCH_MS).toISOString()})\n`,
    );
  }
  return result.ok ? 0 : 1;
}
