// Seeds for the random choices tests make on real clusters. Each is printed as one line
//   [seed] <what>: <n> (replay: <ENV>=<n> npx vitest run <file>)
// which scripts/repeat-suite.mjs picks out of the output to name the seed of a failure.
import { Rng } from '../../src/sim/rng.js';

/** Reads the seed from `env` when set (to replay a failure), else draws one; prints it either way. */
export function testSeed(what: string, file: string, env = 'RAFT_TEST_SEED'): number {
  const given = process.env[env];
  const seed = given !== undefined && given !== '' ? Number(given) : Math.floor(Math.random() * 1e6);
  if (!Number.isSafeInteger(seed)) throw new Error(`${env}=${given} is not an integer seed`);
  console.log(`[seed] ${what}: ${seed} (replay: ${env}=${seed} npx vitest run ${file})`);
  return seed;
}

/** A seeded generator for `what`, its seed printed. */
export function seededRng(what: string, file: string, env = 'RAFT_TEST_SEED'): Rng {
  return new Rng(testSeed(what, file, env));
}
