// The HTTP API's fast path (src/api/fast-path.ts) serves plain reads and writes without Express.
// What a client relies on: the answers are the ones Express gives (status, body, headers), for
// good requests and for every mistake, and anything the fast path does not fully understand goes
// to Express. Each request here is sent to two servers over one fake node: the node's real
// listener (fast path, then Express) and Express alone; the answers must match, and the fallback's
// calls show which requests the fast path served itself.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { withFastPath } from '../../src/api/fast-path.js';
import type { KvCommand } from '../../src/kv/commands.js';
import { ClientError } from '../../src/node/errors.js';
import type { NodeSurface } from '../../src/node/surface.js';

const store = new Map<string, string>([['a', 'stored']]);
let failNext: Error | null = null;
const errors: string[] = [];
const node = {
  cfg: { id: 'n1', admin: false, requestTimeoutMs: 1000 },
  tracingEnabled: false,
  log: {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (_e: string, f: { error: string }) => errors.push(f.error),
  },
  leaderId: () => 'n1',
  isLeader: () => true,
  serveForwards: () => {},
  propose: (cmd: KvCommand) => {
    if (failNext) {
      const e = failNext;
      failNext = null;
      return Promise.reject(e);
    }
    if (cmd.op !== 'put') throw new Error('only puts here');
    store.set(cmd.key, cmd.value);
    return Promise.resolve({ result: { op: 'put', key: cmd.key, value: cmd.value, index: 7 }, index: 7 });
  },
  read: (key: string) => Promise.resolve({ value: store.get(key), index: 3 }),
} as unknown as NodeSurface;

let fallbackCalls = 0;
const servers: Server[] = [];
let both = '';
let expressOnly = '';

async function listen(listener: RequestListener): Promise<string> {
  const s = createServer(listener);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  const app = createApp(node);
  both = await listen(
    withFastPath(node, (req, res) => {
      fallbackCalls++;
      app(req, res);
    }),
  );
  expressOnly = await listen(createApp(node));
});
afterAll(() => servers.forEach((s) => s.close()));

interface Answer {
  status: number;
  code: string | undefined;
  body: unknown;
  headers: Record<string, string | null>;
}

async function ask(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer | string,
) {
  const r = await fetch(base + path, {
    method,
    headers,
    body: typeof body === 'string' ? body : body && new Uint8Array(body),
  });
  const text = await r.text();
  const json = JSON.parse(text) as { error?: { code?: string } };
  return {
    status: r.status,
    code: json.error?.code,
    // Error messages may word a parser's complaint differently; everything else must be equal.
    body: json.error ? undefined : json,
    headers: Object.fromEntries(
      ['content-type', 'x-raft-node', 'x-raft-leader', 'retry-after'].map((h) => [h, r.headers.get(h)]),
    ),
  } satisfies Answer;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const put = (value: unknown) => JSON.stringify({ value });

// [what, method, path, headers, body, status, served by the fast path]
const CASES: [string, string, string, Record<string, string>, Buffer | string | undefined, number, boolean][] = [
  ['a write', 'PUT', '/kv/k1', JSON_TYPE, put('v1'), 200, true],
  ['a write to a percent-encoded key', 'PUT', '/kv/a%20b', JSON_TYPE, put('v2'), 200, true],
  [
    'a write with charset=utf-8',
    'PUT',
    '/kv/k3',
    { 'content-type': 'application/json; charset=utf-8' },
    put('v'),
    200,
    true,
  ],
  ['a write with no Content-Type', 'PUT', '/kv/k4', {}, Buffer.from(put('v')), 200, true],
  ['a body that is not JSON', 'PUT', '/kv/k', JSON_TYPE, 'nope', 400, true],
  ['a JSON body that is not an object', 'PUT', '/kv/k', JSON_TYPE, '"text"', 400, true],
  ['an empty body', 'PUT', '/kv/k', JSON_TYPE, '', 400, true],
  ['a value that is not a string', 'PUT', '/kv/k', JSON_TYPE, put(5), 400, true],
  ['a key with bad percent-encoding', 'PUT', '/kv/%zz', JSON_TYPE, put('v'), 400, true],
  ['a key too long', 'PUT', `/kv/${'k'.repeat(2000)}`, JSON_TYPE, put('v'), 414, true],
  ['a value too long', 'PUT', '/kv/k', JSON_TYPE, put('v'.repeat(70_000)), 413, true],
  ['a read', 'GET', '/kv/a', {}, undefined, 200, true],
  ['a stale read', 'GET', '/kv/a?consistency=stale&maxStalenessMs=10', {}, undefined, 200, true],
  ['a read of an unknown consistency', 'GET', '/kv/a?consistency=bogus', {}, undefined, 400, true],
  ['a stale read without its bound', 'GET', '/kv/a?consistency=stale', {}, undefined, 400, true],
  ['a read of a missing key', 'GET', '/kv/missing', {}, undefined, 404, true],
  ['a gzip body', 'PUT', '/kv/g', { ...JSON_TYPE, 'content-encoding': 'gzip' }, gzipSync(put('z')), 200, false],
  ['another charset', 'PUT', '/kv/k', { 'content-type': 'application/json; charset=koi8-r' }, put('v'), 415, false],
  ['a write with a query string', 'PUT', '/kv/q?x=1', JSON_TYPE, put('v'), 200, false],
  ['a delete', 'DELETE', '/kv/a', {}, undefined, 500, false],
  ['another endpoint', 'GET', '/nowhere', {}, undefined, 404, false],
];

describe('the fast path of the HTTP API', () => {
  for (const [what, method, path, headers, body, status, fast] of CASES) {
    it(`answers ${what} as Express does${fast ? ', by itself' : ', by handing it to Express'}`, async () => {
      const calls = fallbackCalls;
      const viaListener = await ask(both, method, path, headers, body);
      const viaExpress = await ask(expressOnly, method, path, headers, body);
      expect(viaListener.status).toBe(status);
      expect(viaListener).toEqual(viaExpress);
      expect(fallbackCalls - calls).toBe(fast ? 0 : 1);
    });
  }

  it('answers what a write failed with as Express does: 503 with Retry-After, and a 500 that is logged', async () => {
    errors.length = 0;
    for (const [e, status] of [
      [new ClientError('transfer_in_progress', 'leadership is being handed over'), 503],
      [new Error('disk on fire'), 500],
    ] as const) {
      failNext = e;
      const viaListener = await ask(both, 'PUT', '/kv/f', JSON_TYPE, put('v'));
      failNext = e;
      const viaExpress = await ask(expressOnly, 'PUT', '/kv/f', JSON_TYPE, put('v'));
      expect(viaListener.status).toBe(status);
      expect(viaListener).toEqual(viaExpress);
    }
    expect(errors).toEqual(['disk on fire', 'disk on fire']);
  });
});
