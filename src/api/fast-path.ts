// The busiest requests without Express (issue 14). Measured on this machine, Express 5 costs about
// 80 µs of CPU a request (its router, body-parser, res.json) where node:http alone costs about 30:
// at thousands of writes a second that is a fifth of the cluster's CPU. So the plainest form of the
// two requests a load sends, a write (PUT /kv/{key}, a JSON body of declared length, no
// Content-Encoding, UTF-8) and a read (GET /kv/{key}, no body), is served here, by the same handlers
// (kv-routes.ts), with the same headers, spans and answers, failures included (respond.ts). Every
// other request, and any variant of these two (a compressed body, a charset, a chunked upload, a
// body on a GET...), goes to Express, which knows every detail of HTTP.
import { context } from '@opentelemetry/api';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { LIMITS } from '../kv/commands.js';
import type { NodeSurface } from '../node/surface.js';
import { httpServerSpans } from '../telemetry/http.js';
import { getKey, putKey, type KvHandler } from './kv-routes.js';
import { sendFailure, type ApiRequest, type ApiResponse } from './respond.js';
import { dropInternalHeaders, nodeHeaders } from './writes.js';

/** /kv/{key}, then an optional query string. */
const KV_PATH = /^\/kv\/([^/?#]+)(?:\?(.*))?$/;
/** A JSON body Express would read as UTF-8 JSON with no conversion. */
const PLAIN_JSON = /^application\/json\s*(?:;\s*charset="?utf-8"?\s*)?$/i;

/** A JSON answer, as Express's res.json writes it. */
class FastResponse implements ApiResponse {
  constructor(private readonly res: ServerResponse) {}
  setHeader(name: string, value: string | number): this {
    this.res.setHeader(name, value);
    return this;
  }
  getHeader(name: string): unknown {
    return this.res.getHeader(name);
  }
  status(code: number): this {
    this.res.statusCode = code;
    return this;
  }
  json(body: unknown): void {
    const text = JSON.stringify(body);
    this.res.setHeader('Content-Type', 'application/json; charset=utf-8');
    this.res.setHeader('Content-Length', Buffer.byteLength(text));
    this.res.end(text);
  }
}

/** Whether a PUT's body is one this path reads exactly as Express's JSON parser would. */
function plainBody(req: IncomingMessage): boolean {
  const h = req.headers;
  const length = Number(h['content-length']);
  return (
    h['transfer-encoding'] === undefined &&
    (h['content-encoding'] === undefined || h['content-encoding'] === 'identity') &&
    (h['content-type'] === undefined || PLAIN_JSON.test(h['content-type'])) &&
    h['content-length'] !== undefined &&
    Number.isSafeInteger(length) &&
    length <= LIMITS.bodyBytes
  );
}

/** The body as JSON, parsed as body-parser's strict JSON parser does (an object or an array; an
 *  empty body is {}). A failure is typed as body-parser types it, so it is answered the same way. */
function parseBody(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // a UTF-8 byte order mark
  if (body.length === 0) return {};
  // JSON's whitespace is space, tab, newline and carriage return.
  const first = body.trimStart()[0];
  try {
    if (first !== '{' && first !== '[')
      throw new SyntaxError(`Unexpected token ${first ?? 'end'} in JSON at position 0`);
    return JSON.parse(body) as unknown;
  } catch (e) {
    throw Object.assign(e as Error, { type: 'entity.parse.failed', status: 400 });
  }
}

/** The whole body, as UTF-8 text (its length was checked against the limit before). */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    // A client gone mid-body: the span records the abort; there is no one to answer.
    req.on('error', reject);
  });
}

/** Serves the plain reads and writes, and hands everything else to `fallback` (the Express app). */
export function withFastPath(node: NodeSurface, fallback: RequestListener): RequestListener {
  const spans = httpServerSpans(node.cfg.id, node.tracingEnabled, (fields) => node.log.debug('http_request', fields));
  const logError = (error: string) => node.log.error('http_error', { error });

  /** Answers `req` with `handler`, once `request` (its query, body and headers) is read: as Express
   *  does, with the node's headers set and the request's span open from the start. */
  const serve = (
    req: IncomingMessage,
    res: ServerResponse,
    handler: KvHandler,
    rawKey: string,
    request: () => Promise<Omit<ApiRequest, 'params'>>,
  ) => {
    dropInternalHeaders(req.headers);
    const out = new FastResponse(res);
    nodeHeaders(node, out);
    const path = (req.url ?? '').split('?')[0];
    spans({ method: req.method ?? '', path, headers: req.headers }, res, (traceContext) => {
      request()
        // Express decodes a path parameter the same way (a URIError is answered as bad_path).
        .then((r) => handler(node, { ...r, params: { key: decodeURIComponent(rawKey) }, traceContext }, out))
        // In the request's context, so a logged error carries its trace id.
        .catch((e: unknown) => context.with(traceContext, () => sendFailure(out, e, logError)));
    });
  };

  return (req, res) => {
    const m = KV_PATH.exec(req.url ?? '');
    if (!m) return fallback(req, res);
    const header = (name: string) => {
      const v = req.headers[name.toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : v;
    };
    if (req.method === 'GET' && req.headers['content-length'] === undefined && !req.headers['transfer-encoding']) {
      const query = parseQuery(m[2] ?? '');
      return serve(req, res, getKey, m[1], () => Promise.resolve({ query, body: {}, header }));
    }
    if (req.method === 'PUT' && m[2] === undefined && plainBody(req)) {
      return serve(req, res, putKey, m[1], async () => ({
        query: {},
        body: parseBody(await readBody(req)),
        header,
      }));
    }
    fallback(req, res);
  };
}
