// `raft-otel status`: a table of every node of the local cluster or of the compose stack.
import { parseArgs } from 'node:util';
import { isPaused, isRunning, liveNodes, type ClusterFile, type NodeEntry } from './cluster-file.js';
import { CLUSTER_OPTIONS, common, help, openCluster, out, type CommonValues } from './common.js';
import type { NodeStatus } from '../api/status.js';
import { ownStatus, tryStatus } from './http.js';

export const statusHelp = `raft-otel status [--watch] [--json] [--data-dir DIR]

A table of every node: whether its process runs (up, down, paused, or no answer), its role, term,
the leader it knows, its commit and applied index, and its last log index.
--watch redraws it every second until Ctrl-C. With --compose, the state is the container's
(docker compose ps) and the pid column shows the service instead.
${CLUSTER_OPTIONS}`;

type State = 'up' | 'down' | 'paused' | 'no answer' | 'foreign';

interface Row {
  node: NodeEntry;
  state: State;
  st: NodeStatus | null;
}

async function row(c: ClusterFile, node: NodeEntry): Promise<Row> {
  const service = c.compose?.nodes.find((s) => s.id === node.id);
  if (service) {
    // A container: compose knows whether it runs; the node's own answer tells the rest.
    if (service.state === 'paused') return { node, state: 'paused', st: null };
    if (service.state !== 'running') return { node, state: 'down', st: null };
    const st = await tryStatus(node, 800);
    return { node, state: st?.id === node.id ? 'up' : 'no answer', st: st?.id === node.id ? st : null };
  }
  if (!isRunning(node)) {
    // Not our process: is something else answering on its port (another cluster)?
    const other = await tryStatus(node, 300);
    return { node, state: other ? 'foreign' : 'down', st: null };
  }
  if (isPaused(node.pid)) return { node, state: 'paused', st: null };
  const st = await ownStatus(node, 800);
  return { node, state: st ? 'up' : 'no answer', st };
}

const COLUMNS: [string, number][] = [
  ['node', 5],
  ['pid', 8],
  ['state', 10],
  ['role', 14],
  ['term', 5],
  ['leader', 7],
  ['commit', 7],
  ['applied', 8],
  ['lastLog', 0],
];

function line(cells: (string | number | null | undefined)[]): string {
  return `  ${cells.map((c, i) => String(c ?? '-').padEnd(COLUMNS[i][1])).join(' ')}`.trimEnd();
}

export function statusTable(rows: Row[], c?: ClusterFile): string {
  const lines = [line(COLUMNS.map(([h]) => (h === 'pid' && c?.compose ? 'service' : h)))];
  for (const { node, state, st } of rows)
    lines.push(
      line([
        node.id,
        c?.compose?.nodes.find((s) => s.id === node.id)?.service ?? (node.pid || '-'),
        state,
        st?.role,
        st?.term,
        st?.leader,
        st?.commitIndex,
        st?.lastApplied,
        st?.lastLogIndex,
      ]),
    );
  const notes: string[] = [];
  const flag = c?.compose ? ' --compose' : '';
  if (rows.some((r) => r.state === 'paused'))
    notes.push(`paused: ${c?.compose ? 'docker compose pause' : 'SIGSTOP'}; \`raft-otel resume ID${flag}\` carries on`);
  const leader = rows.find((r) => r.st?.role === 'leader');
  if (c?.compose && leader)
    notes.push(
      `the leader is ${leader.node.id}, service ${c.compose.nodes.find((s) => s.id === leader.node.id)?.service}: \`docker compose stop\` it for a graceful hand-over`,
    );
  if (rows.some((r) => r.state === 'foreign'))
    notes.push("foreign: the node is down and another process answers on its port (not this cluster's node)");
  return [...lines, ...notes.map((n) => `\n  ${n}`)].join('\n');
}

export async function statusCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...common, watch: { type: 'boolean', short: 'w' } } });
  const v = values as CommonValues & { watch?: boolean };
  if (v.help) return help(statusHelp);
  const draw = async () => {
    const c = openCluster(v);
    const rows = await Promise.all(liveNodes(c).map((n) => row(c, n)));
    if (v.json)
      return out(
        true,
        rows.map((r) => ({
          id: r.node.id,
          pid: r.node.pid,
          ...(c.compose ? { service: c.compose.nodes.find((s) => s.id === r.node.id)?.service } : {}),
          state: r.state,
          alive: r.state !== 'down',
          status: r.st,
        })),
        '',
      );
    console.log(statusTable(rows, c));
  };
  if (!v.watch) {
    await draw();
    return 0;
  }
  for (;;) {
    process.stdout.write('\x1b[2J\x1b[H');
    console.log(`raft-otel status (every second, Ctrl-C to stop)  ${new Date().toLocaleTimeString()}\n`);
    await draw();
    await new Promise((r) => setTimeout(r, 1000));
  }
}
