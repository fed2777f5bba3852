// The OTLP/HTTP receiver: POST /v1/traces with a JSON or protobuf ExportTraceServiceRequest
// (gzip or not), as the OpenTelemetry SDKs and the collector's otlp_http exporter send it. The whole
// body is decoded and checked before anything is stored: a malformed request gets 400 and leaves
// the store as it was. The answer is an empty ExportTraceServiceResponse in the request's encoding.
// POST /v1/metrics is accepted and ignored (200), so a node exporting metrics too is not told off.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { flattenOtlp, OtlpError, type FlatSpan } from '../../traces/otlp.js';
import { HttpError, readBody, sendJson } from './http-util.js';
import type { Ingest } from './ingest.js';
import { decodeTraceRequest } from './otlp-proto.js';

function encodingOf(req: IncomingMessage): 'json' | 'protobuf' {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (type === 'application/json' || type === '') return 'json';
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  throw new HttpError(
    415,
    'unsupported_media_type',
    `content-type ${type}: send application/json or application/x-protobuf`,
  );
}

/** The spans of an OTLP/HTTP body (and its JSON text, when JSON); HttpError 400 when it is not one. */
export async function decodeOtlpBody(
  body: Buffer,
  encoding: 'json' | 'protobuf',
): Promise<{ spans: FlatSpan[]; text?: string }> {
  try {
    if (encoding === 'protobuf') return { spans: flattenOtlp(await decodeTraceRequest(body)) };
    const text = body.toString('utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new OtlpError(`the body is not JSON: ${(e as Error).message}`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
      throw new OtlpError('expected an ExportTraceServiceRequest object ({"resourceSpans": [...]})');
    return { spans: flattenOtlp(doc), text };
  } catch (e) {
    if (e instanceof OtlpError) throw new HttpError(400, 'bad_otlp', e.message);
    throw e;
  }
}

function answer(res: ServerResponse, encoding: 'json' | 'protobuf'): void {
  if (encoding === 'protobuf') {
    // An ExportTraceServiceResponse with no partial_success: the empty message, zero bytes.
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
    res.end();
  } else sendJson(res, 200, {});
}

export async function handleTraces(req: IncomingMessage, res: ServerResponse, ingest: Ingest, cap: number) {
  const encoding = encodingOf(req);
  let decoded: { spans: FlatSpan[]; text?: string };
  try {
    decoded = await decodeOtlpBody(await readBody(req, cap), encoding);
  } catch (e) {
    ingest.counters.rejected++;
    throw e;
  }
  await ingest.add(decoded.spans, decoded.text);
  answer(res, encoding);
}

export async function handleMetrics(req: IncomingMessage, res: ServerResponse, cap: number) {
  const encoding = encodingOf(req);
  await readBody(req, cap);
  answer(res, encoding);
}
