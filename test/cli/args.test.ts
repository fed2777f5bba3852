// Bad arguments get a line that says what is wrong, before the usage, and a non-zero exit; and
// nothing is changed on the cluster. Checked on a real cluster, through the bin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agreedLeader, cleanUp, cli, clusterPorts, dataDir, until, Up } from './procs.js';

let dir = '';
let up: Up;

beforeAll(async () => {
  dir = dataDir();
  const { http, grpc } = await clusterPorts(3);
  up = new Up(['--data-dir', dir, '--http-port', String(http), '--grpc-port', String(grpc)]);
  await up.waitFor(/Leader elected: n\d \(term \d+\)/);
}, 60_000);
afterAll(cleanUp);

const run = (...args: string[]) => cli([...args, '--data-dir', dir]);

/** The first line of stderr is the problem, and the usage follows it. */
function expectUsageError(r: { code: number | null; err: string }, problem: RegExp, usage: RegExp): void {
  expect(r.code).toBe(2);
  const [first, ...rest] = r.err.split('\n');
  expect(first).toMatch(/^error: /);
  expect(first).toMatch(problem);
  expect(rest.join('\n')).toMatch(usage);
}

describe('partition', () => {
  it('refuses a node in two groups, unknown ids, and fewer than two groups, changing nothing', async () => {
    expectUsageError(
      await run('partition', 'n1,n2', 'n2,n3'),
      /n2 is in group 1 \("n1,n2"\) and in group 2 \("n2,n3"\)/,
      /raft-otel partition GROUP GROUP/,
    );
    expectUsageError(
      await run('partition', 'n1', 'n2,n9'),
      /no node "n9" in this cluster; nodes are n1, n2, n3/,
      /raft-otel partition/,
    );
    expectUsageError(await run('partition', 'n1'), /at least two groups \(got only "n1"\)/, /raft-otel partition/);
    expectUsageError(await run('partition'), /at least two groups \(got none\)/, /raft-otel partition/);
    expectUsageError(
      await run('partition', 'n1', 'n2', 'n3', '--one-way'),
      /--one-way takes exactly two groups/,
      /heal/,
    );
    // Nothing was cut by the refused commands.
    const chaos = await run('chaos', '--json');
    expect(chaos.code, chaos.err).toBe(0);
    for (const r of Object.values(JSON.parse(chaos.out) as Record<string, { chaos: { cutOut: string[] } }>))
      expect(r.chaos.cutOut).toEqual([]);
  }, 60_000);

  it('says which nodes it added to the last group', async () => {
    const r = await run('partition', 'n1', 'n2');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/partitioned: \{n1\} \| \{n2,n3\} \(n3 in no group: joined the last one\)/);
    expect((await run('heal')).code).toBe(0);
  }, 30_000);
});

describe('other commands', () => {
  it('name what is wrong: unknown ids, missing arguments, an empty key', async () => {
    const kill = await run('kill', 'n9');
    expect(kill.code).toBe(1);
    expect(kill.err).toMatch(/no node "n9" in this cluster; nodes are n1, n2, n3/);
    expectUsageError(await run('kill'), /kill takes one node id, got none/, /raft-otel kill\|restart/);
    expectUsageError(await run('kv', 'put', '', 'v'), /the key must be a non-empty string/, /raft-otel kv get/);
    expectUsageError(await run('kv', 'put', 'k'), /kv put takes KEY VALUE \(2 argument\(s\)\), got 1/, /kv cas/);
    expectUsageError(await run('kv', 'frob', 'k'), /unknown operation "frob"/, /raft-otel kv/);
    expectUsageError(await run('chaos', '--drop', '2'), /--drop takes a fraction between 0 and 1, not "2"/, /chaos/);
    expectUsageError(await run('lock', 'release', 'x'), /lock release needs --token T/, /raft-otel lock/);
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^error: unknown command 'frobnicate'/);
  }, 60_000);

  it('lock acquire without --owner uses user@host, and a held lock shows its expiry as a time', async () => {
    // The partition tests above moved the leader: lock needs one every node knows.
    await agreedLeader(dir, () => `up's output:\n${up.out}`);
    const a = await run('lock', 'acquire', 'orders');
    expect(a.code, a.err).toBe(0);
    expect(a.out).toMatch(/acquired "orders" as \S+@\S+ with fencing token \d+, until \d.*\(in \d+\.\d s\)/);
    const b = await run('lock', 'acquire', 'orders', '--owner', 'someone-else');
    expect(b.code).toBe(1);
    expect(b.out).toMatch(/409 lock_held: .*until log time \d{1,2}:\d{2}:\d{2}.*\(in \d+\.\d s\)/);
    expect(b.out).not.toMatch(/\d{12,}/);
  }, 30_000);

  it('status keeps its columns aligned for a pre-candidate, and shows a paused node as paused', async () => {
    // Cut off, n3 (PreVote on) stays a pre-candidate: its pre-votes never win.
    expect((await run('partition', 'n3', 'n1,n2')).code).toBe(0);
    try {
      await until('n3 to be a pre-candidate', async () => {
        const rows = JSON.parse((await run('status', '--json')).out) as {
          id: string;
          status: { role: string } | null;
        }[];
        return rows.find((r) => r.id === 'n3')?.status?.role === 'pre_candidate' ? true : null;
      });
      const lines = (await run('status')).out.split('\n').slice(0, 4);
      expect(lines[3]).toMatch(/pre_candidate/);
      for (const column of ['role', 'term', 'leader', 'commit']) {
        const at = lines[0].indexOf(column);
        for (const l of lines.slice(1)) expect(`${l[at - 1]}${l[at]}`, `${column} in "${l}"`).toMatch(/^ \S$/);
      }
    } finally {
      expect((await run('heal')).code).toBe(0);
    }

    expect((await run('pause', 'n2')).code).toBe(0);
    try {
      const st = await run('status');
      expect(st.code, st.err).toBe(0);
      expect(st.out.split('\n').find((l) => l.trimStart().startsWith('n2'))).toMatch(/^\s+n2\s+\d+\s+paused\s/);
    } finally {
      expect((await run('resume', 'n2')).code).toBe(0);
    }
  }, 60_000);
});
