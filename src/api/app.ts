// The HTTP API of one node (JSON in, JSON out). The table in README "HTTP API" is the contract.
//
// Writes sent to a follower are forwarded to the leader (the hop shows in traces); every response
// names the leader in X-Raft-Leader. Without a leader, requests fail fast with 503 and
// Retry-After. Errors are {error: {code, message}} with the right status. /admin/ exists only
// when the node was started with --admin.
import express, { type NextFunction, type Request, type Response } from 'express';
import { LIMITS, valueProblem, valueTooLong } from '../kv/commands.js';
import { ClientError } from '../node/errors.js';
import type { NodeSurface, ReadConsistency } from '../node/surface.js';
import { adminRouter } from './admin.js';
import { locksRouter } from './locks.js';
import { handle, sendError } from './respond.js';
import { bodyField, checkedKey, dropInternalHeaders, write } from './writes.js';
import { serveForwards } from './forward.js';
import { httpServerSpans } from '../telemetry/http.js';

export function createApp(node: NodeSurface): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // No ETag on answers: nothing here is cached by validators, and hashing every body costs CPU.
  app.set('etag', false);
  // Writes followers forward to this node arrive over gRPC (raft.Raft/Forward), served here.
  serveForwards(node);
  // Headers that only nodes may set are dropped from clients' requests (before tracing records them).
  app.use(dropInternalHeaders());
  app.use((_req, res, next) => {
    res.setHeader('X-Raft-Node', node.cfg.id);
    const leader = node.leaderId();
    if (leader) res.setHeader('X-Raft-Leader', leader);
    next();
  });
  app.use(httpServerSpans(node.cfg.id, node.tracingEnabled, (fields) => node.log.debug('http_request', fields)));
  app.use(express.json({ limit: LIMITS.bodyBytes, strict: true, type: () => true }));

  app.get('/status', (_req, res) => {
    res.json(node.status());
  });

  app.get(
    '/kv/:key',
    handle(async (req, res) => {
      const key = checkedKey(req.params.key);
      const consistency = (req.query.consistency ?? 'linearizable') as ReadConsistency;
      if (!['linearizable', 'lease', 'stale'].includes(consistency)) {
        throw new ClientError(
          'bad_request',
          `consistency must be linearizable, lease or stale, not "${String(consistency)}"`,
        );
      }
      let maxStalenessMs = 0;
      if (consistency === 'stale') {
        maxStalenessMs = Number(req.query.maxStalenessMs);
        if (req.query.maxStalenessMs === undefined || !Number.isFinite(maxStalenessMs) || maxStalenessMs < 0) {
          throw new ClientError('bad_request', 'consistency=stale needs maxStalenessMs, a number of milliseconds >= 0');
        }
      }
      const { value, index } = await node.read(key, consistency, maxStalenessMs);
      if (value === undefined) throw new ClientError('key_not_found', `no key "${key}"`, { index });
      res.json({ key, value, index });
    }),
  );

  app.put(
    '/kv/:key',
    handle(async (req, res) => {
      const key = checkedKey(req.params.key);
      const value = bodyField(req, 'value');
      const valueErr = valueProblem(value);
      if (valueErr) throw new ClientError('bad_value', valueErr, {}, valueTooLong(value));
      await write(
        node,
        req,
        res,
        { op: 'put', key, value: value as string },
        (r) => r.op === 'put' && { key, value: r.value, index: r.index },
      );
    }),
  );

  app.delete(
    '/kv/:key',
    handle(async (req, res) => {
      const key = checkedKey(req.params.key);
      await write(
        node,
        req,
        res,
        { op: 'delete', key },
        (r) => r.op === 'delete' && { key, index: r.index, existed: r.existed },
      );
    }),
  );

  app.post(
    '/kv/:key/cas',
    handle(async (req, res) => {
      const key = checkedKey(req.params.key);
      const expected = bodyField(req, 'expected');
      const value = bodyField(req, 'value');
      if (expected !== null && typeof expected !== 'string')
        throw new ClientError('bad_request', 'expected must be a string, or null for "absent"');
      const valueErr = valueProblem(value);
      if (valueErr) throw new ClientError('bad_value', valueErr, {}, valueTooLong(value));
      await write(node, req, res, { op: 'cas', key, expected, value: value as string }, (r) => {
        if (r.op !== 'cas') return false;
        if (r.swapped) return { swapped: true, index: r.index };
        res.status(412);
        return { swapped: false, current: r.current, index: r.index };
      });
    }),
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

  // Express hands body-parser failures and anything thrown here. A client's mistake is a 4xx with
  // the documented error shape, never a 500.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (err instanceof URIError)
      return sendError(res, new ClientError('bad_path', `the path is not valid percent-encoded UTF-8: ${e.message}`));
    if (e.type === 'charset.unsupported')
      return sendError(res, new ClientError('unsupported_charset', `${e.message}; send UTF-8 JSON`));
    if (e.type === 'encoding.unsupported')
      return sendError(
        res,
        new ClientError('unsupported_encoding', `${e.message}; send the body uncompressed, gzip or deflate`),
      );
    if (e.type === 'entity.parse.failed')
      return sendError(res, new ClientError('bad_json', `the body is not valid JSON: ${e.message}`));
    if (e.type === 'entity.too.large')
      return sendError(res, new ClientError('body_too_large', `the body is larger than ${LIMITS.bodyBytes} bytes`));
    if (err instanceof ClientError) return sendError(res, err);
    // Anything else the request itself caused (a body that is not what its Content-Encoding says,
    // a Content-Length that lies, an aborted upload): http-errors mark those 4xx, and body-parser's
    // JSON parser gives them 400 (the other 4xx it knows are typed above).
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
      return sendError(res, new ClientError('bad_request', e.message ?? 'bad request'));
    node.log.error('http_error', { error: e.message ?? String(err) });
    sendError(res, new ClientError('internal', 'internal error; the node logged the details'));
  });
  return app;
}
