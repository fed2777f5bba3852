// The ClusterControl of a local cluster started by `raft-otel up`: processes found through
// cluster.json, faults through each node's admin API.
import type { ClusterControl } from '../check/control.js';
import { findNode, isAlive, liveNodes, readCluster, writeCluster, type ClusterFile } from './cluster-file.js';
import { tryStatus } from './http.js';
import { spawnNode } from './spawn.js';

export function localControl(dataDir: string): ClusterControl {
  const cluster = (): ClusterFile => readCluster(dataDir);
  return {
    members: () => liveNodes(cluster()).map((n) => ({ id: n.id, http: n.http })),
    running: (id) => isAlive(findNode(cluster(), id).pid),
    kill: async (id) => {
      const n = findNode(cluster(), id);
      if (!isAlive(n.pid)) return;
      process.kill(n.pid, 'SIGKILL');
      while (isAlive(n.pid)) await new Promise((r) => setTimeout(r, 10));
    },
    restart: async (id) => {
      const c = cluster();
      const n = findNode(c, id);
      if (isAlive(n.pid)) return;
      n.pid = spawnNode(n, c.env, true).pid ?? 0;
      writeCluster(c);
      const deadline = Date.now() + 20_000;
      while (!(await tryStatus(n, 300)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    },
    pause: (id) => process.kill(findNode(cluster(), id).pid, 'SIGSTOP'),
    resume: (id) => process.kill(findNode(cluster(), id).pid, 'SIGCONT'),
    chaos: async (id, settings) => {
      const r = await fetch(`http://${findNode(cluster(), id).http}/admin/chaos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(settings),
        signal: AbortSignal.timeout(2000),
      });
      if (!r.ok) throw new Error(`chaos on ${id}: HTTP ${r.status}`);
    },
  };
}
