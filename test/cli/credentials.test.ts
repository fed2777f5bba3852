// A local cluster's credentials (issue 9 review): `up` keeps the cluster secret and the admin token
// in files only their owner can read, never copies them into cluster.json or node.json, and the
// nodes' /admin/ API refuses a request without the token, while every command that uses /admin/
// (partition, heal, chaos, transfer, members) sends it and still works.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agreedLeader, cleanUp, cli, clusterPorts, dataDir, Up } from './procs.js';

afterEach(cleanUp);

/** Every file under dir, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('up keeps its credentials to itself', () => {
  it('writes no secret into its records, makes them 0600, and guards /admin/ with a token the commands send', async () => {
    const dir = dataDir();
    const { http, grpc } = await clusterPorts(3);
    const secret = randomBytes(24).toString('hex');
    const up = new Up(['--data-dir', dir, '--http-port', String(http), '--grpc-port', String(grpc)], {
      RAFT_CLUSTER_SECRET: secret,
    });
    await up.waitFor(/Leader elected: n\d \(term \d+\)/);

    // The secret given in the environment lives in <data-dir>/cluster-secret only, and the admin
    // token in <data-dir>/admin-token only.
    const token = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(readFileSync(join(dir, 'cluster-secret'), 'utf8').trim()).toBe(secret);
    for (const f of filesUnder(dir)) {
      const text = readFileSync(f, 'utf8');
      if (f !== join(dir, 'cluster-secret'))
        expect(text, `${relative(dir, f)} holds the cluster secret`).not.toContain(secret);
      if (f !== join(dir, 'admin-token'))
        expect(text, `${relative(dir, f)} holds the admin token`).not.toContain(token);
    }
    const records = ['cluster-secret', 'admin-token', 'cluster.json', 'n1/node.json', 'n2/node.json', 'n3/node.json'];
    for (const f of records) expect(mode(join(dir, f)), `the mode of ${f}`).toBe('600');

    // /admin/ without the token (any other local process) is refused; with it, it works.
    const chaos = (headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${http}/admin/chaos`, { headers, signal: AbortSignal.timeout(5000) });
    expect((await chaos({})).status).toBe(401);
    expect((await chaos({ authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await chaos({ authorization: `Bearer ${token}` })).status).toBe(200);

    // The commands read the token from the data dir.
    const run = async (...args: string[]) => {
      const r = await cli([...args, '--data-dir', dir]);
      expect(r.code, `raft-otel ${args.join(' ')}: ${r.err}`).toBe(0);
    };
    // These go to every node, leader or not.
    await run('partition', 'n1', 'n2,n3');
    await run('heal');
    await run('chaos', '--delay', '1-2');
    await run('chaos', '--off');
    // These go to the leader, which the partition may have moved, and the transfer does move.
    const context = () => `up's output:\n${up.out}`;
    await agreedLeader(dir, context);
    await run('transfer-leadership');
    await agreedLeader(dir, context);
    await run('members', 'remove', 'n3');
    const members = await cli(['members', '--json', '--data-dir', dir]);
    expect((JSON.parse(members.out) as { voters: string[] }).voters.sort()).toEqual(['n1', 'n2']);
  }, 90_000);
});
