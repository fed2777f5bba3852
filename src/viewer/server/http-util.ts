// Small HTTP helpers the viewer's handlers share: JSON answers, the {error: {code, message}} shape
// of the project's APIs, and reading a body under a cap (gzip included, the cap applying to what
// it inflates to, so a small compressed bomb is refused too).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzip, inflate } from 'node:zlib';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** Sends JSON already serialized (an answer kept for the next request). */
export function sendJsonText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string) {
  sendJson(res, status, { error: { code, message } });
}

/** The body, at most `cap` bytes after decompression; 413 past it, 400 on a bad encoding. */
export async function readBody(req: IncomingMessage, cap: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > cap) {
    req.resume(); // discard, so the connection can answer
    throw new HttpError(413, 'body_too_large', `the body is ${declared} bytes; the limit is ${cap}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > cap) {
      req.resume();
      throw new HttpError(413, 'body_too_large', `the body is over the limit of ${cap} bytes`);
    }
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks, size);
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity' || encoding === '') return raw;
  if (encoding !== 'gzip' && encoding !== 'deflate')
    throw new HttpError(415, 'unsupported_encoding', `content-encoding ${encoding}: use gzip, deflate or none`);
  const unzip = encoding === 'gzip' ? gunzip : inflate;
  return new Promise((ok, fail) =>
    unzip(raw, { maxOutputLength: cap }, (err, out) => {
      if (!err) return ok(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
        fail(new HttpError(413, 'body_too_large', `the body inflates past the limit of ${cap} bytes`));
      else fail(new HttpError(400, 'bad_encoding', `the ${encoding} body does not decompress: ${err.message}`));
    }),
  );
}

/** A query parameter as a finite number, or undefined when absent; HttpError 400 when not a number. */
export function numberParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new HttpError(400, 'bad_parameter', `${name}=${v}: expected a number`);
  return n;
}
