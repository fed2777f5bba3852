// The built-in viewer's HTTP server: one port for the OTLP/HTTP receiver, Jaeger's /api/v3, the
// page's /api/viewer/* (stream and control included) and the page itself. node:http rather than
// express: a handful of routes, and `up` starts this in its own process, where every module loaded
// is start-up time.
//
// With a data dir it is "attached": the panel and the buttons work on the cluster recorded there,
// and the spans are kept in <data-dir>/viewer/ so a restart shows the earlier history; it also
// writes <data-dir>/viewer/viewer.json ({pid, url}) so `raft-otel kv put` can print trace links.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { portHolder } from '../../cli/ports.js';
import { DEFAULT_VIEWER_PORT, viewerInfoPath } from './info.js';
import { handleApiV3 } from './api-v3.js';
import { ClusterWatch } from './cluster-watch.js';
import { handleControl } from './control.js';
import { HttpError, sendError, sendJson } from './http-util.js';
import { Ingest } from './ingest.js';
import { SpanLog } from './persist.js';
import { handleMetrics, handleTraces } from './receiver.js';
import { defaultWebRoot, serveStatic } from './static.js';
import { DEFAULT_CAPS, SpanStore, type StoreCaps } from './store.js';
import { StreamHub } from './stream.js';
import { handleViewerApi } from './viewer-api.js';

export interface ViewerOptions {
  host?: string;
  /** 0 picks a free port */
  port?: number;
  /** the local cluster's data dir: attaches the viewer to it and keeps history in <dir>/viewer/ */
  dataDir?: string | null;
  /** keep spans on disk (default: when there is a data dir) */
  persist?: boolean;
  caps?: Partial<StoreCaps>;
  /** largest OTLP request body, after decompression (default 32 MiB) */
  bodyCap?: number;
  /** largest file POSTed to /api/viewer/import (default 256 MiB) */
  importCap?: number;
  /** how much history to keep on disk (default 256 MiB), in segments of segmentBytes (16 MiB) */
  maxDiskBytes?: number;
  segmentBytes?: number;
  webRoot?: string;
}

export interface Viewer {
  url: string;
  host: string;
  port: number;
  ingest: Ingest;
  store: SpanStore;
  /** resolves when the history on disk is loaded */
  historyLoaded: Promise<{ batches: number; skipped: number }>;
  close(): Promise<void>;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startViewer(opts: ViewerOptions = {}): Promise<Viewer> {
  const host = opts.host ?? '127.0.0.1';
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : null;
  const persist = opts.persist ?? dataDir !== null;
  const bodyCap = opts.bodyCap ?? 32 * 1024 * 1024;
  const importCap = opts.importCap ?? 256 * 1024 * 1024;
  const webRoot = opts.webRoot ?? defaultWebRoot();
  const store = new SpanStore({ ...DEFAULT_CAPS, ...opts.caps });
  const log =
    persist && dataDir
      ? new SpanLog({ dir: join(dataDir, 'viewer'), maxDiskBytes: opts.maxDiskBytes, segmentBytes: opts.segmentBytes })
      : null;
  const ingest = new Ingest(store, log);
  const cluster = new ClusterWatch(dataDir);
  const stats = () => ({
    ...store.stats(),
    received: { ...ingest.counters },
    ...(log ? { disk: log.stats() } : {}),
  });
  const hub = new StreamHub(ingest, cluster, stats);

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://viewer');
    const path = u.pathname;
    const method = req.method ?? 'GET';
    if (method === 'POST' && path === '/v1/traces') return handleTraces(req, res, ingest, bodyCap);
    if (method === 'POST' && path === '/v1/metrics') return handleMetrics(req, res, bodyCap);
    if (path.startsWith('/api/v3/')) {
      if (method !== 'GET') throw new HttpError(405, 'method_not_allowed', `${method} ${path}: use GET`);
      await ingest.whenReady();
      if (handleApiV3(store, path, u.searchParams, res)) return;
      throw new HttpError(404, 'not_found', `no route ${path}`);
    }
    if (path === '/api/viewer/stream' && method === 'GET') return hub.handle(req, res);
    if (path === '/api/viewer/cluster' && method === 'GET') return sendJson(res, 200, await cluster.view());
    if (path === '/api/viewer/control') {
      if (method !== 'POST') throw new HttpError(405, 'method_not_allowed', 'POST a JSON action');
      return handleControl(req, res, dataDir, cluster.attached(), host, () => cluster.poke());
    }
    if (path.startsWith('/api/viewer/')) {
      await ingest.whenReady();
      if (await handleViewerApi(ingest, { importCap, extraStats: () => stats() }, req, path, u.searchParams, res))
        return;
      throw new HttpError(404, 'not_found', `no route ${method} ${path}`);
    }
    if ((method === 'GET' || method === 'HEAD') && (await serveStatic(webRoot, path, res, method === 'HEAD'))) return;
    throw new HttpError(404, 'not_found', `no route ${method} ${path}`);
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof HttpError) sendError(res, e.status, e.code, e.message);
      else sendError(res, 500, 'internal', (e as Error).message ?? String(e));
    });
  });
  // The nodes' exporters keep connections open between batches; so does the stream.
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') {
        const holder = portHolder(opts.port ?? DEFAULT_VIEWER_PORT);
        fail(
          new Error(
            `the viewer's port ${opts.port ?? DEFAULT_VIEWER_PORT} on ${host} is in use${holder ? ` by ${holder}` : ''}. ` +
              'Pick another (--viewer-port P for `up`, --port P for `raft-otel viewer`) or run without it (--no-viewer)',
          ),
        );
      } else fail(e);
    });
    server.listen(opts.port ?? DEFAULT_VIEWER_PORT, host, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(host)}:${port}`;
  const historyLoaded = ingest.loadHistory();
  if (dataDir) {
    mkdirSync(join(dataDir, 'viewer'), { recursive: true });
    writeFileSync(viewerInfoPath(dataDir), JSON.stringify({ pid: process.pid, url }) + '\n', { mode: 0o600 });
  }

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      hub.close();
      cluster.stop();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await historyLoaded.catch(() => undefined);
      await log?.close();
      if (dataDir) {
        try {
          const info = JSON.parse(readFileSync(viewerInfoPath(dataDir), 'utf8')) as { pid?: number };
          if (info.pid === process.pid) rmSync(viewerInfoPath(dataDir), { force: true });
        } catch {
          /* gone already */
        }
      }
    })());
  return { url, host, port, ingest, store, historyLoaded, close };
}
