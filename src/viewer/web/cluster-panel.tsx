// The cluster panel: each node as /status sees it (pushed by the server's SSE stream), and the
// buttons that act on the real processes through POST /api/viewer/control.
import { useState } from 'preact/hooks';
import { control } from './api';
import { cluster, openTrace } from './state';
import type { ClusterNode, ControlRequest } from './types';

export function ClusterPanel() {
  const view = cluster.value;
  const [busy, setBusy] = useState<string | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string; traceId?: string } | null>(null);
  const [key, setKey] = useState('hello');
  const [value, setValue] = useState('world');
  const [groupsText, setGroupsText] = useState('');
  const [drop, setDrop] = useState('0.2');
  const [delay, setDelay] = useState('20-80');
  const [fsync, setFsync] = useState('50');
  const [transferTo, setTransferTo] = useState('');

  if (!view) return <section class="panel">Waiting for the cluster view…</section>;
  const ids = view.nodes.map((n) => n.id);
  const leader = view.nodes.find((n) => n.status?.role === 'leader' && !n.down);

  async function act(label: string, req: ControlRequest) {
    setBusy(label);
    setResult(null);
    const r = await control(req);
    setBusy(null);
    if (r.error) setResult({ ok: false, text: `${label}: ${r.error.message} (${r.error.code})` });
    else setResult({ ok: true, text: `${label}: done`, traceId: r.traceId });
  }

  return (
    <section class="panel" aria-label="Cluster">
      <h2>
        Cluster{' '}
        <small>
          {view.nodes.length} nodes · leader <b data-testid="leader">{leader?.id ?? 'none'}</b>
          {leader?.status ? ` · term ${leader.status.term}` : ''}
        </small>
      </h2>
      <table class="nodes">
        <thead>
          <tr>
            <th>node</th>
            <th>state</th>
            <th title="current term">term</th>
            <th>leader</th>
            <th title="commit index / applied index">commit / applied</th>
            <th title="last log index">last log</th>
            <th title="this leader's matchIndex / nextIndex for each follower">match / next</th>
            <th>actions</th>
          </tr>
        </thead>
        <tbody>
          {view.nodes.map((n) => (
            <NodeRow key={n.id} n={n} view={view.attached} busy={busy} act={act} />
          ))}
        </tbody>
      </table>
      {!view.attached && (
        <p class="help">
          This viewer is not attached to a local cluster (it shows files or another cluster's spans), so the buttons are
          off. <code>npm start</code> runs a cluster with its viewer.
        </p>
      )}
      <div class="controls" aria-disabled={!view.attached}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void act(`put ${key}`, { action: 'put', key, value });
          }}
        >
          <label>
            key <input name="key" value={key} onInput={(e) => setKey(e.currentTarget.value)} size={8} />
          </label>
          <label>
            value <input name="value" value={value} onInput={(e) => setValue(e.currentTarget.value)} size={8} />
          </label>
          <button type="submit" disabled={!view.attached || !!busy}>
            Write
          </button>
        </form>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const groups = parseGroups(groupsText, ids);
            if (typeof groups === 'string') setResult({ ok: false, text: `partition: ${groups}` });
            else void act('partition', { action: 'partition', groups });
          }}
        >
          <label title="Groups of nodes that can reach each other, separated by |, e.g. n1 n2 | n3">
            groups{' '}
            <input
              name="groups"
              placeholder={
                ids.length
                  ? `${ids.slice(0, Math.ceil(ids.length / 2)).join(' ')} | ${ids.slice(Math.ceil(ids.length / 2)).join(' ')}`
                  : 'n1 n2 | n3'
              }
              value={groupsText}
              onInput={(e) => setGroupsText(e.currentTarget.value)}
              size={14}
            />
          </label>
          <button type="submit" disabled={!view.attached || !!busy}>
            Partition
          </button>
          <button
            type="button"
            disabled={!view.attached || !!busy}
            onClick={() => void act('heal', { action: 'heal' })}
          >
            Heal
          </button>
        </form>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const d = delay.split('-').map((x) => Number(x.trim()));
            const delayMs = d.length === 1 ? [d[0], d[0]] : d;
            void act('chaos', {
              action: 'chaos',
              settings: { dropRate: Number(drop), delayMs, slowFsyncMs: Number(fsync) },
            });
          }}
        >
          <label title="Fraction of requests dropped (0..1)">
            drop <input name="drop" value={drop} onInput={(e) => setDrop(e.currentTarget.value)} size={3} />
          </label>
          <label title="Added latency per request, MIN-MAX ms">
            delay <input name="delay" value={delay} onInput={(e) => setDelay(e.currentTarget.value)} size={5} />
          </label>
          <label title="Extra milliseconds per fsync">
            slow fsync <input name="fsync" value={fsync} onInput={(e) => setFsync(e.currentTarget.value)} size={3} />
          </label>
          <button type="submit" disabled={!view.attached || !!busy}>
            Chaos
          </button>
          <button
            type="button"
            disabled={!view.attached || !!busy}
            onClick={() => void act('chaos off', { action: 'chaos', settings: { off: true } })}
          >
            Chaos off
          </button>
        </form>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void act('transfer', { action: 'transfer', ...(transferTo ? { to: transferTo } : {}) });
          }}
        >
          <label>
            transfer leadership to{' '}
            <select name="to" value={transferTo} onChange={(e) => setTransferTo(e.currentTarget.value)}>
              <option value="">the most caught-up</option>
              {ids
                .filter((id) => id !== leader?.id)
                .map((id) => (
                  <option key={id} value={id}>
                    {id}
                  </option>
                ))}
            </select>
          </label>
          <button type="submit" disabled={!view.attached || !!busy}>
            Transfer
          </button>
        </form>
      </div>
      {busy && <p class="status">{busy}…</p>}
      {result && (
        <p class={result.ok ? 'status ok' : 'status err'} role="status">
          {result.text}
          {result.traceId && (
            <>
              {' '}
              <a href={`#/trace/${result.traceId}`} onClick={() => openTrace(result.traceId ?? null)}>
                trace {result.traceId.slice(0, 8)}…
              </a>
            </>
          )}
        </p>
      )}
    </section>
  );
}

function NodeRow(props: {
  n: ClusterNode;
  view: boolean;
  busy: string | null;
  act: (label: string, req: ControlRequest) => Promise<void>;
}) {
  const { n, view, busy, act } = props;
  const s = n.status;
  const state = n.down ? 'down' : n.paused ? 'paused' : (s?.role ?? 'unreachable');
  const progress = s?.role === 'leader' && s.progress ? Object.entries(s.progress).filter(([id]) => id !== n.id) : [];
  const off = !view || !!busy;
  return (
    <tr data-node={n.id} class={`role-${state}`}>
      <td>
        <b>{n.id}</b>
      </td>
      <td class="state">
        {state}
        {n.cutOff.length > 0 && <span class="cut"> cut off from {n.cutOff.join(', ')}</span>}
      </td>
      <td class="term">{s?.term ?? '–'}</td>
      <td>{s?.leader ?? '–'}</td>
      <td class="commit">{s ? `${s.commitIndex} / ${s.lastApplied}` : '–'}</td>
      <td>{s?.lastLogIndex ?? '–'}</td>
      <td class="progress">
        {progress.map(([id, p]) => (
          <span key={id} title={p.state}>
            {id}: {p.match}/{p.next}{' '}
          </span>
        ))}
      </td>
      <td class="actions">
        {n.down ? (
          <button
            type="button"
            disabled={off}
            onClick={() => void act(`restart ${n.id}`, { action: 'restart', node: n.id })}
          >
            Restart
          </button>
        ) : (
          <button type="button" disabled={off} onClick={() => void act(`kill ${n.id}`, { action: 'kill', node: n.id })}>
            Kill
          </button>
        )}
        {n.paused ? (
          <button
            type="button"
            disabled={off}
            onClick={() => void act(`resume ${n.id}`, { action: 'resume', node: n.id })}
          >
            Resume
          </button>
        ) : (
          <button
            type="button"
            disabled={off || n.down}
            onClick={() => void act(`pause ${n.id}`, { action: 'pause', node: n.id })}
          >
            Pause
          </button>
        )}
      </td>
    </tr>
  );
}

/** "n1 n2 | n3" → [["n1","n2"],["n3"]], or why it is not a partition of these nodes. */
export function parseGroups(text: string, ids: string[]): string[][] | string {
  const groups = text
    .split('|')
    .map((g) => g.split(/[\s,]+/).filter(Boolean))
    .filter((g) => g.length);
  if (groups.length < 2) return 'give at least two groups separated by |, e.g. "n1 n2 | n3"';
  const seen = new Set<string>();
  for (const g of groups)
    for (const id of g) {
      if (!ids.includes(id)) return `there is no node "${id}" (nodes: ${ids.join(', ')})`;
      if (seen.has(id)) return `${id} is in two groups`;
      seen.add(id);
    }
  return groups;
}
