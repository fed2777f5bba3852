// The ClusterControl of a local cluster started by `raft-otel up`: processes found through the
// cluster's files, faults through each node's admin API.
import type { ClusterControl } from '../check/control.js';
import { findNode, isRunning, liveNodes, readCluster, saveNode, type ClusterFile } from './cluster-file.js';
import { adminHeaders } from './credentials.js';
import { spawnNode, waitServing } from './spawn.js';

export function localControl(dataDir: string): ClusterControl {
  const cluster = (): ClusterFile => readCluster(dataDir);
  return {
    members: () => liveNodes(cluster()).map((n) => ({ id: n.id, http: n.http })),
    running: (id) => isRunning(findNode(cluster(), id)),
    kill: async (id) => {
      const n = findNode(cluster(), id);
      if (!isRunning(n)) return;
      process.kill(n.pid, 'SIGKILL');
      const deadline = Date.now() + 5000;
      while (isRunning(n) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    },
    restart: async (id) => {
      const c = cluster();
      const n = findNode(c, id);
      if (isRunning(n)) return;
      const started = spawnNode(c, n, true);
      saveNode(c, n);
      await waitServing(n, started, 20_000);
    },
    pause: (id) => process.kill(findNode(cluster(), id).pid, 'SIGSTOP'),
    resume: (id) => process.kill(findNode(cluster(), id).pid, 'SIGCONT'),
    chaos: async (id, settings) => {
      const r = await fetch(`http://${findNode(cluster(), id).http}/admin/chaos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...adminHeaders(cluster()) },
        body: JSON.stringify(settings),
        signal: AbortSignal.timeout(2000),
      });
      if (!r.ok) throw new Error(`chaos on ${id}: HTTP ${r.status}`);
    },
  };
}
