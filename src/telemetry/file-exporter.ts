// Without an OTLP endpoint, spans are written as OTLP JSON, one ExportTraceServiceRequest per
// line, to <dir>/spans.jsonl. Any OTLP-JSON reader can load them line by line; the built-in trace
// viewer is meant to read them. (Jaeger's UI upload takes one request per file.)
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

export class OtlpJsonFileExporter implements SpanExporter {
  readonly file: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'spans.jsonl');
  }

  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    try {
      const bytes = JsonTraceSerializer.serializeRequest(spans);
      if (bytes) appendFileSync(this.file, Buffer.from(bytes).toString('utf8') + '\n');
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}
