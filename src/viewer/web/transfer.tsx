// Export the window on screen as OTLP JSON (Jaeger's Upload opens it), and import such a file, a
// spans.jsonl or a Jaeger export back into the viewer, from the page.
import { useState } from 'preact/hooks';
import { exportUrl, fetchTimeline, importFile } from './api';
import { addSpans, spansVersion } from './state';

export function ExportImport() {
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  void spansVersion.value; // the window's bounds move as the timeline does

  function windowNow(): { start: number; end: number } {
    const d = window.raftViewer?.timeline?.domain;
    return d ? { start: d[0], end: d[1] } : { start: Date.now() - 60_000, end: Date.now() };
  }

  async function onFile(e: Event) {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    setMsg(null);
    try {
      const r = await importFile(await file.text());
      setMsg({ ok: true, text: `imported ${r.spans} spans in ${r.traces} traces from ${file.name}` });
      // Show what came in: imported spans may lie anywhere in time.
      const got = await fetchTimeline(0, Date.now() + 86_400_000);
      addSpans(got.spans, true);
    } catch (err) {
      setMsg({ ok: false, text: err instanceof Error ? err.message : String(err) });
    } finally {
      input.value = '';
    }
  }

  return (
    <span class="io">
      <a
        class="button"
        href="#"
        onClick={(e) => {
          const w = windowNow();
          const a = e.currentTarget;
          a.href = exportUrl(w);
          a.download = `raft-otel-${new Date(w.start).toISOString().replace(/[:.]/g, '-')}.json`;
        }}
        title="The spans of the timeline's window as OTLP JSON (Jaeger's Upload opens it)"
      >
        Export window
      </a>
      <label class="button" title="An OTLP JSON file, a spans.jsonl or a Jaeger export">
        Import…
        <input type="file" accept=".json,.jsonl,application/json" onChange={(e) => void onFile(e)} hidden />
      </label>
      {msg && (
        <span class={msg.ok ? 'status ok' : 'status err'} role="status">
          {msg.text}
        </span>
      )}
    </span>
  );
}
