// The HTTP API of one node (JSON in, JSON out). The table in README "HTTP API" is the contract.
//
// Writes sent to a follower are forwarded to the leader (the hop shows in traces); every response
// names the leader in X-Raft-Leader. Without a leader, requests fail fast with 503 and
// Retry-After. Errors are {error: {code, message}} with the right status. /admin/ exists only
// when the node was started with --admin.
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { RequestListener } from 'node:http';
import { LIMITS } from '../kv/commands.js';
import { ClientError } from '../node/errors.js';
import type { NodeSurface } from '../node/surface.js';
import { adminRouter } from './admin.js';
import { withFastPath } from './fast-path.js';
import { casKey, deleteKey, getKey, putKey } from './kv-routes.js';
import { locksRouter } from './locks.js';
import { handle, sendError, sendFailure } from './respond.js';
import { dropInternalHeaders, nodeHeaders } from './writes.js';
import { serveForwards } from './forward.js';
import { httpServerSpans } from '../telemetry/http.js';

/** What the node's HTTP server runs: the fast path for plain reads and writes, Express for the rest. */
export function createHttpListener(node: NodeSurface): RequestListener {
  return withFastPath(node, createApp(node));
}

export function createApp(node: NodeSurface): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // No ETag on answers: nothing here is cached by validators, and hashing every body costs CPU.
  app.set('etag', false);
  // Writes followers forward to this node arrive over gRPC (raft.Raft/Forward), served here.
  serveForwards(node);
  // Headers that only nodes may set are dropped from clients' requests (before tracing records them).
  app.use((req, _res, next) => {
    dropInternalHeaders(req.headers);
    next();
  });
  app.use((_req, res, next) => {
    nodeHeaders(node, res);
    next();
  });
  const spans = httpServerSpans(node.cfg.id, node.tracingEnabled, (fields) => node.log.debug('http_request', fields));
  app.use((req, res, next) =>
    spans(req, res, (traceContext) => {
      // Kept on the request for the handler (respond.ts, ApiRequest.traceContext).
      req.traceContext = traceContext;
      next();
    }),
  );
  app.use(express.json({ limit: LIMITS.bodyBytes, strict: true, type: () => true }));

  app.get('/status', (_req, res) => {
    res.json(node.status());
  });

  app.get(
    '/kv/:key',
    handle((req, res) => getKey(node, req, res)),
  );
  app.put(
    '/kv/:key',
    handle((req, res) => putKey(node, req, res)),
  );
  app.delete(
    '/kv/:key',
    handle((req, res) => deleteKey(node, req, res)),
  );
  app.post(
    '/kv/:key/cas',
    handle((req, res) => casKey(node, req, res)),
  );

  app.use('/locks', locksRouter(node));

  if (node.cfg.admin) app.use('/admin', adminRouter(node));
  else {
    app.use('/admin', (_req, res) => {
      sendError(
        res,
        new ClientError(
          'admin_disabled',
          'the admin API is off on this node; start it with --admin (RAFT_ADMIN=true) to enable it',
        ),
      );
    });
  }

  app.use((req, res) => {
    sendError(res, new ClientError('not_found', `no endpoint ${req.method} ${req.path}; see README "HTTP API"`));
  });

  // Express hands body-parser failures and anything thrown here. Answered in the request's context,
  // so a logged error carries its trace id (no context crosses the handler's awaits by itself).
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) =>
    context.with(req.traceContext ?? ROOT_CONTEXT, () =>
      sendFailure(res, err, (error) => node.log.error('http_error', { error })),
    ),
  );
  return app;
}
