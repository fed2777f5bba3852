// Spans from a file or a request body, whatever its format: OTLP JSON (one document or JSON lines,
// as a node's spans.jsonl), a Jaeger /api/v3 answer, or a Jaeger UI download. Its own module so
// that otlp.ts and jaeger-json.ts (each one format) do not import each other.
import { jaegerJsonToFlat, type JaegerJsonDocument } from './jaeger-json.js';
import { flattenOtlp, OtlpError, type FlatSpan } from './otlp.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Spans of one parsed JSON document: an ExportTraceServiceRequest / TracesData (`{resourceSpans}`),
 * a Jaeger /api/v3 answer (`{result: {resourceSpans}}`), a Jaeger UI download (`{data: [{traceID,
 * spans, processes}]}`), or an array of any of these.
 */
export function flattenDocument(doc: unknown): FlatSpan[] {
  if (Array.isArray(doc)) return doc.flatMap((d) => flattenDocument(d));
  if (!isObject(doc)) throw new OtlpError('expected a JSON object (OTLP JSON, a Jaeger /api/v3 answer or export)');
  if ('resourceSpans' in doc) return flattenOtlp(doc);
  if (isObject(doc.result)) return flattenDocument(doc.result);
  if (Array.isArray(doc.data)) return jaegerJsonToFlat(doc as unknown as JaegerJsonDocument);
  if (isObject(doc.error))
    throw new OtlpError(`the document is an error answer: ${JSON.stringify(doc.error).slice(0, 200)}`);
  if (Object.keys(doc).length === 0) return [];
  throw new OtlpError(
    `no resourceSpans, result or data field (got ${Object.keys(doc).slice(0, 5).join(', ')}): not OTLP JSON`,
  );
}

/**
 * Spans of a file or request body: one JSON document (see flattenDocument) or JSON lines of them (a
 * node's spans.jsonl). Blank lines are skipped; a bad line throws with its line number.
 */
export function parseTraceText(text: string): FlatSpan[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  try {
    return flattenDocument(JSON.parse(trimmed));
  } catch (e) {
    if (e instanceof OtlpError) throw e;
    // Not one JSON value: try JSON lines.
  }
  const out: FlatSpan[] = [];
  const lines = trimmed.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch (e) {
      throw new OtlpError(`line ${i + 1}: not JSON (${(e as Error).message})`);
    }
    try {
      for (const s of flattenDocument(doc)) out.push(s);
    } catch (e) {
      throw new OtlpError(`line ${i + 1}: ${(e as Error).message}`);
    }
  }
  return out;
}
