// `raft-otel exercise`: the list, and what a wrong argument or a missing cluster or viewer gets
// (a line saying what is wrong and what to do, never a crash).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeCluster } from '../../src/cli/cluster-file.js';
import { cleanUp, cli, dataDir } from '../cli/procs.js';
import { releasePorts, reservePorts } from '../support/ports.js';

describe('raft-otel exercise', () => {
  afterAll(cleanUp);

  it('list names every exercise with its question and README', async () => {
    const r = await cli(['exercise', 'list']);
    expect(r.code).toBe(0);
    for (const id of ['00', '01', '02', '03', '04', '05', '06']) expect(r.out).toMatch(new RegExp(`^  ${id}  `, 'm'));
    expect(r.out).toContain('exercises/03-failover/README.md');
    const json = await cli(['exercise', 'list', '--json']);
    const list = JSON.parse(json.out) as { id: string; question: string }[];
    expect(list.every((e) => e.question.endsWith('?'))).toBe(true);
  });

  it('usage errors exit 2 and say what is wrong', async () => {
    const cases: [string[], RegExp][] = [
      [['exercise'], /which\? exercise list/],
      [['exercise', 'run', '1'], /unknown action "run"/],
      [['exercise', 'check'], /needs an exercise number/],
      [['exercise', 'check', '1', 'extra'], /unexpected argument "extra"/],
      [['exercise', 'check', '1', '--traces', 'localhost:16686'], /--traces must be an http\(s\) URL/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(re);
    }
  });

  it('an unknown exercise, no cluster, or no viewer: exit 1 with what to do', async () => {
    const dir = dataDir(true);
    mkdirSync(dir, { recursive: true });
    const unknown = await cli(['exercise', 'check', '42', '--data-dir', dir]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no exercise "42"; `raft-otel exercise list`/);
    const none = await cli(['exercise', 'start', '1', '--data-dir', dir]);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no cluster at .* Start one with `npm start`/);

    // A cluster whose nodes are down, and nothing listening where the spans should be.
    const [port] = await reservePorts(1);
    const node = { id: 'n1', grpc: `127.0.0.1:${port}`, http: `127.0.0.1:${port}`, pid: 0, args: [] };
    writeCluster({
      clusterId: 'raft-otel',
      dataDir: dir,
      nodes: [{ ...node, dataDir: join(dir, 'n1'), logFile: join(dir, 'n1', 'node.log') }],
      env: {},
    });
    const url = `http://127.0.0.1:${port}`;
    const noViewer = await cli(['exercise', 'check', '0', '--data-dir', dir, '--traces', url]);
    expect(noViewer.code).toBe(1);
    expect(noViewer.out).toMatch(/✗ the cluster has a leader every node agrees on/);
    expect(noViewer.out).toMatch(
      /✗ the safety facts could not be checked\n\s+→ cannot reach http:\/\/127\.0\.0\.1:\d+\/api\/v3/,
    );
    releasePorts([port]);
  });
});
