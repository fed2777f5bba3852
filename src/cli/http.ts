// The commands' HTTP client for nodes' APIs, with errors that say what to do next.
import type { NodeEntry } from './cluster-file.js';

export interface HttpResult {
  status: number;
  body: any;
  headers: Headers;
}

export async function call(
  node: NodeEntry,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 5000,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  let res: Response;
  try {
    res = await fetch(`http://${node.http}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const code = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    throw new Error(
      `${node.id} is not answering at http://${node.http} (${code}). Is it running? \`raft-otel status\` shows the cluster; \`raft-otel restart ${node.id}\` starts it again`,
    );
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** The node's status, or null when it does not answer. */
export async function tryStatus(node: NodeEntry, timeoutMs = 1000): Promise<any | null> {
  try {
    const r = await call(node, 'GET', '/status', undefined, timeoutMs);
    return r.status === 200 ? r.body : null;
  } catch {
    return null;
  }
}
