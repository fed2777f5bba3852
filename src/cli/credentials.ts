// A local cluster's two credentials, kept beside its data and readable only by their owner:
//  - <data-dir>/cluster-secret: what every peer call carries (README "Peer security");
//  - <data-dir>/admin-token: what every /admin/ request must carry, so no other local process
//    (another user's, a browser tab's fetch to localhost) can remove members, fail disks or cut
//    the network.
// Both are made once by `up` and kept across runs. A value given in the environment
// (RAFT_CLUSTER_SECRET, RAFT_ADMIN_TOKEN) is written to that file and never to cluster.json or
// node.json: the nodes and the commands are only ever told the file's path (`up` makes the files:
// credentialFiles in secret-cmd.ts). This module stays light: every command that calls /admin/
// loads it, and must not load gRPC with it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterFile } from './cluster-file.js';

/** Variables holding a credential itself: never persisted, never handed on beside their file. */
export const SECRET_VALUE_VARS = {
  RAFT_CLUSTER_SECRET: 'RAFT_CLUSTER_SECRET_FILE',
  RAFT_ADMIN_TOKEN: 'RAFT_ADMIN_TOKEN_FILE',
};

export function adminTokenPath(dataDir: string): string {
  return join(dataDir, 'admin-token');
}

/** The headers an /admin/ request to this cluster needs: its admin token, when it has one. */
export function adminHeaders(c: Pick<ClusterFile, 'dataDir' | 'env'>): Record<string, string> {
  // A compose cluster (dataDir '') has no token on this machine: its admin API is bound to the
  // compose network and this machine's loopback instead (docker-compose.yml).
  if (!c.dataDir && !c.env.RAFT_ADMIN_TOKEN_FILE) return {};
  const file = c.env.RAFT_ADMIN_TOKEN_FILE || adminTokenPath(c.dataDir);
  if (!existsSync(file)) return {};
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new Error(`cannot read the cluster's admin token ${file} (${(e as Error).message})`, { cause: e });
  }
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The environment a node inherits from this process, less credential values the cluster gives
 *  as files (the file wins in the node anyway; this keeps a stray value from reaching it). */
export function inheritedEnv(clusterEnv: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const [value, file] of Object.entries(SECRET_VALUE_VARS)) if (clusterEnv[file]) delete env[value];
  return env;
}
