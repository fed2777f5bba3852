// A node built from fakes: storage in memory, a transport that opens no socket, the real key/value
// state machine. The collaborators are the caller's to build (src/node/collaborators.ts), so a
// node can be tested without a disk, a port or a process: a single voter elects itself, persists
// its entries through the fake storage before it answers, and applies a write.
import { describe, expect, it } from 'vitest';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import type { NodeCollaborators, NodeStorage } from '../../src/node/collaborators.js';
import { loadNodeConfig } from '../../src/node/config.js';
import { createLogger } from '../../src/node/log.js';
import { RaftNode } from '../../src/node/node.js';
import type { Entry, Ready } from '../../src/raft/types.js';
import type { RequestMessage } from '../../src/transport/codec.js';
import { waitUntil } from '../support/wait.js';

class MemoryStorage implements NodeStorage {
  readonly faults = { slowFsyncMs: 0, failWrites: false };
  readonly stats = { fsyncs: 0, records: 0, entriesWritten: 0, fsyncMsTotal: 0, lastFsyncMs: 0, walBytes: 0 };
  readonly entries: Entry[] = [];
  closed = false;
  persist(rd: Ready): Promise<void> {
    this.entries.push(...rd.entries);
    this.stats.records++;
    if (rd.mustSync) this.stats.fsyncs++;
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

describe('a node built from injected collaborators', () => {
  it('runs on in-memory storage and a socketless transport', async () => {
    const storage = new MemoryStorage();
    const listened: string[] = [];
    const sent: RequestMessage[] = [];
    const fakes: NodeCollaborators = {
      openStorage: (_dir, bootstrap) =>
        Promise.resolve({
          storage,
          loaded: {
            state: {
              hardState: { term: 0, votedFor: null, commit: 0 },
              snapshot: null,
              entries: [],
              bootstrapConf: bootstrap,
            },
            notes: [],
          },
        }),
      server: () => ({
        listen: (address) => {
          listened.push(address);
          return Promise.resolve(0);
        },
        setForwardHandler: () => {},
        close: () => Promise.resolve(),
        forceClose: () => {},
      }),
      clients: () => ({
        send: (m) => sent.push(m),
        forward: () => Promise.reject(new Error('a single node forwards nothing')),
        close: () => {},
      }),
      stateMachine: () => new KvStateMachine(),
    };
    const cfg = loadNodeConfig(
      {
        id: 'n1',
        peers: 'n1=127.0.0.1:1/127.0.0.1:2',
        'data-dir': '/nonexistent/never-opened',
        'tick-ms': '10',
        'insecure-peers': true,
      },
      {},
    );
    const node = await RaftNode.start(cfg, { collaborators: fakes, logger: createLogger('n1', 'error') });
    try {
      expect(listened).toEqual([cfg.grpcListen]);
      await waitUntil('n1 to elect itself', () => node.isLeader(), { timeoutMs: 10_000 });
      const applied = await node.propose({ op: 'put', key: 'k', value: 'v' });
      expect(applied.result).toMatchObject({ op: 'put' });
      // The entry went through the injected storage before the write was answered.
      expect(storage.entries.some((e) => e.index === applied.index && e.data.includes('"k"'))).toBe(true);
      expect(storage.stats.fsyncs).toBeGreaterThan(0);
      expect(node.status().lastApplied).toBeGreaterThanOrEqual(applied.index);
      expect(sent).toEqual([]); // no peers to call
    } finally {
      await node.stop({ graceful: false });
    }
    expect(storage.closed).toBe(true);
  });
});
