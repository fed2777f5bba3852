// `raft-otel viewer`: the built-in viewer on its own: against files (a saved class demo), as the
// receiver a collector exports to (the compose stack), or beside a cluster started elsewhere.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { OtlpError } from '../traces/otlp.js';
import { parseTraceText } from '../traces/documents.js';
import { DEFAULT_DATA_DIR, findCluster } from './cluster-file.js';
import { help } from './common.js';

export const viewerHelp = `raft-otel viewer [--data-dir DIR] [--port P] [--host H] [--open FILE...] [options]

Runs the built-in viewer: a browser page with the cluster's timeline, traces and controls, an
OTLP/HTTP receiver (POST /v1/traces, JSON or protobuf) and Jaeger's /api/v3 query API.
(\`raft-otel up\` starts one by itself; this is for running it alone.)

Options:
  --data-dir DIR     attach to the local cluster recorded there (panel and buttons), and keep the
                     spans in DIR/viewer/ so a restart shows the earlier history (default ./data)
  --no-data-dir      keep nothing on disk and attach to no cluster (files and the receiver only)
  --port P           HTTP port (default 8000; 0 picks a free one)
  --host H           address to listen on (default 127.0.0.1; 0.0.0.0 in a container)
  --open FILE...     import OTLP JSON files at start: a node's traces/spans.jsonl, a Jaeger
                     /api/v3 answer or UI download, a file exported from the viewer
  --max-spans N      spans kept in memory (default 200000); the oldest traces go first
  --max-mb M         memory for spans, estimated, in MiB (default 256)
  --grpc-port P      also receive OTLP/gRPC on this port (off by default)

Feed it: OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:8000 OTEL_EXPORTER_OTLP_PROTOCOL=http/json
for any OpenTelemetry SDK, or an otlp_http exporter in a collector (see the README).
`;

function intOption(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${flag} must be a whole number from ${min} to ${max}, not "${text}"`);
  return n;
}

export async function viewerCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
        'no-data-dir': { type: 'boolean' },
        port: { type: 'string', default: '8000' },
        host: { type: 'string', default: '127.0.0.1' },
        open: { type: 'string', multiple: true },
        'max-spans': { type: 'string' },
        'max-mb': { type: 'string' },
        'grpc-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    }));
  } catch (e) {
    return help(viewerHelp, (e as Error).message);
  }
  if (values.help) return help(viewerHelp);
  let port: number, maxSpans: number | undefined, maxMb: number | undefined, grpcPort: number | undefined;
  try {
    port = intOption('port', values.port, 0, 65535)!;
    maxSpans = intOption('max-spans', values['max-spans'], 1000, 100_000_000);
    maxMb = intOption('max-mb', values['max-mb'], 16, 1_000_000);
    grpcPort = intOption('grpc-port', values['grpc-port'], 1, 65535);
  } catch (e) {
    return help(viewerHelp, (e as Error).message);
  }
  // Read every file first: a typo in a path fails before anything listens.
  const files: { file: string; text: string }[] = [];
  for (const f of values.open ?? []) {
    try {
      files.push({ file: f, text: await readFile(f, 'utf8') });
    } catch (e) {
      throw new Error(`cannot read ${f} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
    }
  }
  const dataDir = values['no-data-dir'] ? null : resolve(values['data-dir']);
  const { startViewer } = await import('../viewer/server/server.js');
  const viewer = await startViewer({
    host: values.host,
    port,
    dataDir,
    caps: {
      ...(maxSpans ? { maxSpans } : {}),
      ...(maxMb ? { maxBytes: maxMb * 1024 * 1024 } : {}),
    },
  });
  console.log(`raft-otel viewer: ${viewer.url}`);
  const grpc = grpcPort
    ? await (await import('../viewer/server/grpc.js')).startGrpcReceiver(viewer.ingest, values.host, grpcPort)
    : null;
  if (grpc) console.log(`  OTLP/gRPC receiver on ${grpc.address}`);
  console.log(`  OTLP/HTTP receiver: ${viewer.url}/v1/traces (JSON or protobuf)`);
  console.log(`  Jaeger-compatible query API: ${viewer.url}/api/v3/services`);
  if (dataDir) {
    const attached = findCluster(dataDir) !== null;
    console.log(
      attached
        ? `  attached to the cluster in ${dataDir}; history kept in ${dataDir}/viewer/`
        : `  no cluster in ${dataDir} (the panel stays empty); history kept in ${dataDir}/viewer/`,
    );
  }
  const history = await viewer.historyLoaded;
  if (history.batches) console.log(`  history: ${viewer.store.stats().spans} spans from earlier runs`);
  for (const { file, text } of files) {
    try {
      const spans = parseTraceText(text);
      const added = await viewer.ingest.add(spans);
      console.log(`  opened ${file}: ${spans.length} spans, ${added.length} new`);
    } catch (e) {
      if (!(e instanceof OtlpError)) throw e;
      console.log(`  cannot open ${file}: ${e.message}`);
    }
  }
  console.log('Ctrl-C stops it.');
  return new Promise<number>((done) => {
    const stop = () => {
      void (async () => {
        await grpc?.close();
        await viewer.close();
        done(0);
      })();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
