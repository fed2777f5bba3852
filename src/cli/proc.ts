// `raft-otel kill|restart|pause|resume NODE`: the process faults a classroom plays with.
import { parseArgs } from 'node:util';
import { isPaused, isRunning, readCluster, saveNode, type ClusterFile, type NodeEntry } from './cluster-file.js';
import { checkIds, common, help, out } from './common.js';
import { tryStatus } from './http.js';
import { spawnNode, waitServing } from './spawn.js';

export const procHelp = `raft-otel kill|restart|pause|resume NODE [--data-dir DIR]

  kill     SIGKILL of the node's process (a crash: nothing is flushed)
  restart  start a stopped node again, with its data; waits until it serves (or says why it failed)
  pause    SIGSTOP: the process freezes (a long GC pause, a stuck VM)
  resume   SIGCONT: it carries on, unaware that time passed
`;

type Action = 'kill' | 'restart' | 'pause' | 'resume';

export async function procCommand(action: Action, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: common });
  const v = values;
  if (v.help) return help(procHelp);
  if (positionals.length !== 1)
    return help(procHelp, `${action} takes one node id, got ${positionals.length ? positionals.join(' ') : 'none'}`);
  const c = readCluster(v['data-dir']);
  const problem = checkIds(c, positionals);
  if (problem) throw new Error(problem);
  const n = c.nodes.find((x) => x.id === positionals[0])!;
  const running = isRunning(n);
  switch (action) {
    case 'kill':
      if (!running) throw new Error(`${n.id} is not running; \`raft-otel restart ${n.id}\` starts it`);
      process.kill(n.pid, 'SIGKILL');
      out(v.json, { killed: n.id, pid: n.pid }, `killed ${n.id} (pid ${n.pid}) with SIGKILL`);
      return 0;
    case 'pause':
    case 'resume':
      if (!running) throw new Error(`${n.id} is not running; \`raft-otel restart ${n.id}\` starts it`);
      if (action === 'pause' && isPaused(n.pid)) throw new Error(`${n.id} is paused already`);
      process.kill(n.pid, action === 'pause' ? 'SIGSTOP' : 'SIGCONT');
      out(
        v.json,
        { [action === 'pause' ? 'paused' : 'resumed']: n.id },
        `${action === 'pause' ? 'paused' : 'resumed'} ${n.id} (pid ${n.pid})`,
      );
      return 0;
    case 'restart':
      if (running) throw new Error(`${n.id} is still running (pid ${n.pid}); \`raft-otel kill ${n.id}\` first`);
      return restart(c, n, v.json);
  }
}

async function restart(c: ClusterFile, n: NodeEntry, json: boolean): Promise<number> {
  const squatter = await tryStatus(n, 300);
  if (squatter)
    throw new Error(
      `another process answers on ${n.id}'s port (http://${n.http}, node ${squatter.id} of cluster ${squatter.clusterId}${squatter.pid ? `, pid ${squatter.pid}` : ''}); stop it first`,
    );
  const started = spawnNode(c, n, true);
  saveNode(c, n);
  const st = await waitServing(n, started);
  out(
    json,
    { restarted: n.id, pid: n.pid, role: st.role, term: st.term },
    `restarted ${n.id} (pid ${n.pid}): serving as ${st.role} in term ${st.term}; log: ${n.logFile}`,
  );
  return 0;
}
