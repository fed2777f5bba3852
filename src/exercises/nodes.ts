// Which nodes an exercise looks at, and their state through the HTTP API.
// - A local cluster (`raft-otel up`): its records in the data dir (cluster.json, node.json).
// - A compose cluster (`--compose`): node i's API is published on 127.0.0.1:8000+i (the compose
//   file's numbering, the same as the local mode's defaults); the members are the ids any answering
//   node lists, so a stopped container still counts as a member.
import { findCluster, liveNodes } from '../cli/cluster-file.js';
import { tryStatus } from '../cli/http.js';
import type { NodeStatus } from '../api/status.js';
import type { NodeRef } from './types.js';

export interface Cluster {
  nodes: NodeRef[];
  /** RAFT_* / OTEL_* settings the nodes were started with, when known. */
  settings: Record<string, string>;
  /** Where `exercise start` keeps its records. */
  recordDir: string | null;
  where: string;
}

/** The local cluster in dataDir, or null when there is none. */
export function localCluster(dataDir: string): Cluster | null {
  const c = findCluster(dataDir);
  if (!c) return null;
  return {
    nodes: liveNodes(c).map((n) => ({ id: n.id, http: n.http })),
    settings: { ...c.env },
    recordDir: c.dataDir,
    where: `the local cluster in ${c.dataDir}`,
  };
}

const COMPOSE_MAX = 5;

/** The compose cluster's nodes, from the ports compose publishes. */
export async function composeCluster(recordDir: string): Promise<Cluster | null> {
  const guesses = Array.from({ length: COMPOSE_MAX }, (_, i) => ({ id: `n${i + 1}`, http: `127.0.0.1:${8001 + i}` }));
  const sts = await Promise.all(guesses.map((n) => tryStatus(n, 1000)));
  const answering = sts.filter((s): s is NodeStatus => s !== null);
  if (!answering.length) return null;
  const ids = new Set<string>();
  for (const st of answering) for (const id of [...st.members.voters, ...st.members.learners]) ids.add(id);
  const nodes = guesses.filter((g) => ids.has(g.id));
  return { nodes, settings: {}, recordDir, where: 'the compose cluster (node APIs on 127.0.0.1:8001...)' };
}

export async function statuses(nodes: NodeRef[]): Promise<Map<string, NodeStatus | null>> {
  const sts = await Promise.all(nodes.map((n) => tryStatus(n, 1500)));
  return new Map(nodes.map((n, i) => [n.id, sts[i]]));
}

/** The node every answering node agrees leads, with its term; null when there is none. */
export function agreedLeader(sts: Map<string, NodeStatus | null>): { id: string; term: number } | null {
  const up = [...sts.values()].filter((s): s is NodeStatus => s !== null);
  const leader = up.find((s) => s.role === 'leader');
  if (!leader || !up.every((s) => s.leader === leader.id)) return null;
  return { id: leader.id, term: leader.term };
}
