// `raft-otel down`: stops what `up` started, found through the supervisor's pid file and each
// node's own node.json, so a deleted cluster.json cannot leave nodes running.
import { parseArgs } from 'node:util';
import { findCluster, isRunning, supervisorPid } from './cluster-file.js';
import { isAlive, signal } from './pids.js';
import { common, help, out, usesCompose } from './common.js';

export const downHelp = `raft-otel down [--data-dir DIR]

Stops the local cluster: the \`up\` that runs it (which stops its nodes) and every node still
running (SIGTERM, so a leader hands over first; SIGKILL after 10 s).
`;

async function waitGone(pids: number[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/** Stops these node processes: SIGCONT (a paused node cannot act on SIGTERM), SIGTERM, then
 *  SIGKILL for any still running after the grace period. */
export async function stopPids(pids: number[], graceMs = 10_000): Promise<void> {
  for (const pid of pids) signal(pid, 'SIGCONT');
  for (const pid of pids) signal(pid, 'SIGTERM');
  await waitGone(pids, graceMs);
  for (const pid of pids.filter(isAlive)) signal(pid, 'SIGKILL');
  await waitGone(pids, 2000);
}

export async function downCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: common });
  const v = values;
  if (v.help) return help(downHelp);
  if (positionals.length) return help(downHelp, `down takes no arguments (got ${positionals.join(' ')})`);
  if (usesCompose(v))
    throw new Error(
      'down stops a local cluster; a compose stack stops with `docker compose down` (add -v to drop its data)',
    );
  const up = supervisorPid(v['data-dir']);
  const c = findCluster(v['data-dir']);
  if (!c && !up) throw new Error(`no cluster at ${v['data-dir']}: nothing to stop`);
  const running = c ? c.nodes.filter(isRunning) : [];
  if (up) {
    signal(up, 'SIGTERM'); // `up` stops its nodes and exits
    await waitGone([up], 15_000);
  }
  // Whatever is still running: nodes `up` did not know of, or all of them when `up` was gone.
  await stopPids(running.filter(isRunning).map((n) => n.pid));
  const ids = running.map((n) => n.id).join(', ');
  const human = running.length
    ? `stopped ${ids}${up ? ` (and the up that ran them, pid ${up})` : ''}`
    : up
      ? `stopped the up that ran this cluster (pid ${up}); no node was running`
      : 'nothing was running';
  out(v.json, { supervisor: up || null, stopped: running.map((n) => n.id) }, human);
  return 0;
}
