// Structured logs: one JSON object per line on stdout, with the time, level, node and event.
// The tracing layer adds trace_id and span_id through `contextFields`, so a log line leads to its
// trace.
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

export function createLogger(
  node: string,
  level: Level,
  write: (line: string) => void = (l) => process.stdout.write(l + '\n'),
  contextFields: () => Record<string, string> = () => ({}),
): Logger {
  const log =
    (lvl: Level) =>
    (event: string, fields: Record<string, unknown> = {}) => {
      if (ORDER[lvl] < ORDER[level]) return;
      write(JSON.stringify({ time: new Date().toISOString(), level: lvl, node, event, ...contextFields(), ...fields }));
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
