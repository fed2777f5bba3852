// The records a local cluster keeps (cluster.json, each node's node.json) when a node leaves.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeFilePath, readCluster, saveNode, writeCluster, type ClusterFile } from '../../src/cli/cluster-file.js';

const root = mkdtempSync(join(tmpdir(), 'raft-cluster-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cluster(): ClusterFile {
  const node = (id: string) => ({
    id,
    grpc: '127.0.0.1:1',
    http: '127.0.0.1:2',
    pid: 0,
    dataDir: join(root, id),
    logFile: join(root, id, 'node.log'),
    args: [],
  });
  const c: ClusterFile = { clusterId: 'raft-otel', dataDir: root, nodes: [node('n1'), node('n2')], env: {} };
  for (const n of c.nodes) mkdirSync(n.dataDir, { recursive: true });
  writeCluster(c);
  return c;
}

describe('a node that leaves the cluster', () => {
  it('is recorded as removed even when its folder was deleted first (its disk lost)', () => {
    const c = cluster();
    const n2 = c.nodes[1];
    rmSync(n2.dataDir, { recursive: true });
    n2.removed = true;
    expect(() => saveNode(c, n2)).not.toThrow();
    expect(readCluster(root).nodes.find((n) => n.id === 'n2')?.removed).toBe(true);
    // Nothing is written where the lost disk was: a new node must not find a stale record there.
    expect(existsSync(n2.dataDir)).toBe(false);
  });

  it('keeps its node.json up to date while its folder exists', () => {
    const c = cluster();
    const n1 = c.nodes[0];
    n1.removed = true;
    saveNode(c, n1);
    expect(existsSync(nodeFilePath(n1))).toBe(true);
  });
});
