// `raft-otel kill|restart|pause|resume NODE`: the process faults a classroom plays with, on a
// local node's process or (--compose) on its container.
import { parseArgs } from 'node:util';
import { isPaused, isRunning, saveNode, type ClusterFile, type NodeEntry } from './cluster-file.js';
import { CLUSTER_OPTIONS, checkIds, common, help, openCluster, out } from './common.js';
import { composeNode, containerUp, dockerCompose, waitComposeServing } from './compose.js';
import { tryStatus } from './http.js';
import { spawnNode, waitServing } from './spawn.js';

export const procHelp = `raft-otel kill|restart|pause|resume NODE [--data-dir DIR]

  kill     SIGKILL of the node's process (a crash: nothing is flushed)
  restart  start a stopped node again, with its data; waits until it serves (or says why it failed)
  pause    SIGSTOP: the process freezes (a long GC pause, a stuck VM)
  resume   SIGCONT: it carries on, unaware that time passed

With --compose: docker compose kill -s KILL, start, pause (the cgroup freezer: the same freeze) and
unpause on the node's service.
${CLUSTER_OPTIONS}`;

type Action = 'kill' | 'restart' | 'pause' | 'resume';

export async function procCommand(action: Action, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: common });
  const v = values;
  if (v.help) return help(procHelp);
  if (positionals.length !== 1)
    return help(procHelp, `${action} takes one node id, got ${positionals.length ? positionals.join(' ') : 'none'}`);
  const c = openCluster(v);
  const problem = checkIds(c, positionals);
  if (problem) throw new Error(problem);
  if (c.compose) return composeProc(action, c, positionals[0], v.json);
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

/** The same four actions on a compose service: what is checked first, then `docker compose`. */
async function composeProc(action: Action, c: ClusterFile, id: string, json: boolean): Promise<number> {
  const s = composeNode(c, id);
  const notUp = `${id} (${s.service}) is not running (${s.state ?? 'no container'}); \`raft-otel restart ${id} --compose\` starts it`;
  switch (action) {
    case 'kill':
      if (!containerUp(s)) throw new Error(notUp);
      dockerCompose(['kill', '-s', 'KILL', s.service]);
      out(json, { killed: id, service: s.service }, `killed ${id} (${s.service}) with SIGKILL`);
      return 0;
    case 'pause':
      if (!containerUp(s)) throw new Error(notUp);
      if (s.state === 'paused') throw new Error(`${id} is paused already`);
      dockerCompose(['pause', s.service]);
      out(json, { paused: id, service: s.service }, `paused ${id} (${s.service})`);
      return 0;
    case 'resume':
      if (!containerUp(s)) throw new Error(notUp);
      if (s.state !== 'paused') throw new Error(`${id} is not paused; \`raft-otel pause ${id} --compose\` pauses it`);
      dockerCompose(['unpause', s.service]);
      out(json, { resumed: id, service: s.service }, `resumed ${id} (${s.service})`);
      return 0;
    case 'restart': {
      if (containerUp(s))
        throw new Error(`${id} (${s.service}) is still running; \`raft-otel kill ${id} --compose\` first`);
      dockerCompose(['start', s.service]);
      const st = await waitComposeServing(c, id);
      out(
        json,
        { restarted: id, service: s.service, role: st.role, term: st.term },
        `restarted ${id} (${s.service}): serving as ${st.role} in term ${st.term}; log: docker compose logs ${s.service}`,
      );
      return 0;
    }
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
