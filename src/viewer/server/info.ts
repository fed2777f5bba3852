// <data-dir>/viewer/viewer.json: {pid, url} of the viewer serving that data dir's cluster, so a
// command (`raft-otel kv put`) can print a link into it. Its own module: kv must not load the server.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where the viewer listens unless told otherwise (`up --viewer-port`, `viewer --port`). */
export const DEFAULT_VIEWER_PORT = 8000;

export function viewerInfoPath(dataDir: string): string {
  return join(resolve(dataDir), 'viewer', 'viewer.json');
}

/** The URL of the viewer running for this data dir, or null (none recorded, or its process is gone). */
export function runningViewerUrl(dataDir: string): string | null {
  try {
    const info = JSON.parse(readFileSync(viewerInfoPath(dataDir), 'utf8')) as { pid?: unknown; url?: unknown };
    if (typeof info.pid !== 'number' || typeof info.url !== 'string') return null;
    process.kill(info.pid, 0);
    return info.url;
  } catch {
    return null;
  }
}

/** The page's link to one trace. */
export function traceLink(viewerUrl: string, traceId: string): string {
  return `${viewerUrl}/#/trace/${traceId}`;
}
