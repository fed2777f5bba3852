// <data-dir>/cluster.json: how the commands find a local cluster. `up` writes it; every other
// command reads it. Each node's entry holds its addresses, its pid and the exact arguments it was
// started with, so `restart` can start it again the same way.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface NodeEntry {
  id: string;
  grpc: string;
  http: string;
  pid: number;
  dataDir: string;
  logFile: string;
  args: string[];
  removed?: boolean;
}

export interface ClusterFile {
  clusterId: string;
  dataDir: string;
  nodes: NodeEntry[];
  /** Environment every node is started with (OTLP endpoint and the like). */
  env: Record<string, string>;
}

export const DEFAULT_DATA_DIR = './data';

export function clusterFilePath(dataDir: string): string {
  return join(resolve(dataDir), 'cluster.json');
}

export function readCluster(dataDir: string): ClusterFile {
  const path = clusterFilePath(dataDir);
  if (!existsSync(path)) {
    throw new Error(
      `no cluster at ${path}. Start one with \`npm start\` (raft-otel up), or pass --data-dir where it runs`,
    );
  }
  return JSON.parse(readFileSync(path, 'utf8')) as ClusterFile;
}

export function writeCluster(c: ClusterFile): void {
  const path = clusterFilePath(c.dataDir);
  writeFileSync(`${path}.tmp`, JSON.stringify(c, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
}

export function liveNodes(c: ClusterFile): NodeEntry[] {
  return c.nodes.filter((n) => !n.removed);
}

export function findNode(c: ClusterFile, id: string): NodeEntry {
  const n = c.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node "${id}" in this cluster; nodes are ${c.nodes.map((x) => x.id).join(', ')}`);
  return n;
}

export function isAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
