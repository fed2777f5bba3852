// The exercises the command knows, in order. Each is a module exporting `exercise` (an Exercise);
// its folder exercises/<slug>/ holds the README and instructor notes. Adding one is one line here.
import type { Exercise } from './types.js';

const MODULES: (() => Promise<{ exercise: Exercise }>)[] = [
  () => import('./00-first-election.js'),
  () => import('./01-one-write-one-trace.js'),
  () => import('./02-failure-detection.js'),
  () => import('./03-failover.js'),
  () => import('./04-quorum.js'),
  () => import('./05-partitions.js'),
  () => import('./06-always-a-leader.js'),
  // 07 and later: below this line.
  () => import('./07-replica-falls-behind.js'),
  () => import('./08-server-replaced.js'),
  () => import('./09-lock-is-a-leader.js'),
  () => import('./10-reads-at-scale.js'),
  () => import('./11-chaos.js'),
  () => import('./12-traces-logs-metrics.js'),
  () => import('./13-cost-of-watching.js'),
];

export async function allExercises(): Promise<Exercise[]> {
  return (await Promise.all(MODULES.map((m) => m()))).map((m) => m.exercise);
}

/** The exercise "3", "03", "03-failover" or "failover" names, or an error listing them. */
export async function findExercise(name: string): Promise<Exercise> {
  const all = await allExercises();
  const n = name.trim().toLowerCase();
  const found =
    all.find((e) => /^\d+$/.test(n) && Number(e.id) === Number(n)) ??
    all.find((e) => e.slug === n || e.slug.slice(3) === n);
  if (!found)
    throw new Error(
      `no exercise "${name}"; \`raft-otel exercise list\` lists them (${all.map((e) => e.id).join(', ')})`,
    );
  return found;
}
