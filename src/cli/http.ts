// The commands' HTTP client for nodes' APIs, with errors that say what to do next.
import { request, type IncomingHttpHeaders } from 'node:http';
import type { NodeStatus } from '../api/status.js';
import type { ClusterFile, NodeEntry } from './cluster-file.js';
import { adminHeaders } from './credentials.js';

/** The API's error body: {error: {code, message, ...}}. */
export interface ApiError {
  error: { code: string; message: string; [k: string]: unknown };
}

export interface HttpResult {
  status: number;
  /** The parsed JSON body (or the text when it is not JSON). */
  body: unknown;
  headers: IncomingHttpHeaders;
}

export function apiError(body: unknown): ApiError['error'] | null {
  const e = (body as Partial<ApiError> | null)?.error;
  return e && typeof e.code === 'string' ? e : null;
}

/** One request to a node's API. node:http rather than fetch: fetch loads undici on first use,
 *  which costs a one-shot command more than the request itself. */
export function call(
  node: Pick<NodeEntry, 'id' | 'http'>,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 5000,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `http://${node.http}${path}`,
      {
        method,
        headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('error', (e) => reject(notAnswering(node, e)));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => reject(notAnswering(node, e)));
    req.end(payload);
  });
}

function notAnswering(node: Pick<NodeEntry, 'id' | 'http'>, e: Error): Error {
  const code = (e as NodeJS.ErrnoException).code ?? e.name;
  return new Error(
    `${node.id} is not answering at http://${node.http} (${code}). Is it running? \`raft-otel status\` shows the cluster; \`raft-otel restart ${node.id}\` starts it again`,
    { cause: e },
  );
}

/** A request to the node's /admin/ API, with the cluster's admin token. */
export function adminCall(
  c: Pick<ClusterFile, 'dataDir' | 'env'>,
  node: Pick<NodeEntry, 'id' | 'http'>,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 5000,
): Promise<HttpResult> {
  return call(node, method, path, body, timeoutMs, adminHeaders(c));
}

/** The node's status, or null when it does not answer. */
export async function tryStatus(node: Pick<NodeEntry, 'id' | 'http'>, timeoutMs = 1000): Promise<NodeStatus | null> {
  try {
    const r = await call(node, 'GET', '/status', undefined, timeoutMs);
    return r.status === 200 ? (r.body as NodeStatus) : null;
  } catch {
    return null;
  }
}

/** The status of the node *we* started: null when nothing answers, or when the answer comes from
 *  another process on that port (another cluster's node, say). */
export async function ownStatus(node: NodeEntry, timeoutMs = 1000): Promise<NodeStatus | null> {
  const st = await tryStatus(node, timeoutMs);
  // The pid tells this cluster's node from another one on the same port.
  return st && st.pid === node.pid && st.id === node.id ? st : null;
}

/** Throws the API's error (code and message) for an error answer. */
export function expectOk(r: HttpResult): void {
  if (r.status < 400) return;
  const e = apiError(r.body);
  throw new Error(e ? `${e.code}: ${e.message}` : `HTTP ${r.status}`);
}
