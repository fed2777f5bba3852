// Frames a pipe's end sends in one turn of the event loop go out as one gRPC message
// (src/transport/pipe-frames.ts): a follower's forwards of many clients' writes, and the leader's
// answers to them, cost one stream write each way instead of one per write. Each end is driven
// here with a stand-in for its grpc-js stream that records every message written.
import { EventEmitter } from 'node:events';
import { Metadata, status, type ClientDuplexStream, type ServerDuplexStream } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { PipeFrame, PipeFrame__Output } from '../../src/transport/generated/raft/PipeFrame.js';
import type { PipeMessage, PipeMessage__Output } from '../../src/transport/generated/raft/PipeMessage.js';
import { PipeClient } from '../../src/transport/pipe-client.js';
import { PipeServer, type PipeAnswer } from '../../src/transport/pipe-server.js';
import { FROM_HEADER } from '../../src/transport/peer-auth.js';

const turn = () => new Promise((r) => setImmediate(r));

/** A frame as grpc-js would hand it over (every field present, as the loader's defaults do). */
const output = (f: PipeFrame): PipeFrame__Output => ({
  id: Number(f.id ?? 0),
  method: f.method ?? '',
  metadata: f.metadata ?? {},
  payload: Buffer.from((f.payload as Buffer | undefined) ?? Buffer.alloc(0)),
  code: f.code ?? 0,
  details: f.details ?? '',
});
const message = (frames: PipeFrame[]): PipeMessage__Output => ({ frames: frames.map(output) });
const framesIn = (m: PipeMessage) => m.frames ?? [];

class FakeStream extends EventEmitter {
  written: PipeMessage[] = [];
  cancelled = false;
  metadata = new Metadata();
  write(m: PipeMessage) {
    this.written.push(m);
    return true;
  }
  cancel() {
    this.cancelled = true;
  }
  end() {}
}

describe('the calling end', () => {
  it('sends the first call of a turn at once and the rest of the turn as one message, and pairs each answer of a combined reply with its call', async () => {
    const stream = new FakeStream();
    const client = new PipeClient(() => stream as unknown as ClientDuplexStream<PipeMessage, PipeMessage__Output>);
    const calls = Array.from({ length: 20 }, (_, i) =>
      client.call('Forward', Buffer.from(`w${i}`), new Metadata(), 5000),
    );
    // The first leaves at once (a lone call waits for nothing), the others when the turn ends.
    expect(stream.written.map((m) => framesIn(m).map((f) => Number(f.id)))).toEqual([[1]]);
    await turn();
    expect(stream.written).toHaveLength(2);
    expect(framesIn(stream.written[1])).toHaveLength(19);
    const frames = stream.written.flatMap(framesIn);
    expect(frames.map((f) => Number(f.id))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(frames.map((f) => String(f.payload))).toEqual(Array.from({ length: 20 }, (_, i) => `w${i}`));
    // The answers come back in another order, in one message; one of them an error.
    const answers = frames
      .reverse()
      .map((f, i) =>
        i === 3
          ? { id: f.id, code: status.UNAVAILABLE, details: 'not now' }
          : { id: f.id, code: 0, payload: Buffer.from(`r${String(f.payload)}`) },
      );
    stream.emit('data', message(answers));
    const settled = await Promise.allSettled(calls);
    const failedId = Number(answers[3].id);
    settled.forEach((s, i) => {
      if (i + 1 === failedId)
        expect(s.status === 'rejected' && (s.reason as { code: number }).code).toBe(status.UNAVAILABLE);
      else expect(s.status === 'fulfilled' && String(s.value)).toBe(`rw${i}`);
    });
    expect(client.inFlight).toBe(0);
    client.close();
  });

  it('sends a call of more than a megabyte in a message of its own', async () => {
    const stream = new FakeStream();
    const client = new PipeClient(() => stream as unknown as ClientDuplexStream<PipeMessage, PipeMessage__Output>);
    const calls = [
      client.call('AppendEntries', Buffer.alloc(10), new Metadata(), 5000),
      client.call('AppendEntries', Buffer.alloc(1024 * 1024 + 1), new Metadata(), 5000),
      client.call('AppendEntries', Buffer.alloc(10), new Metadata(), 5000),
    ];
    await turn();
    expect(stream.written.map((m) => framesIn(m).map((f) => Number(f.id)))).toEqual([[1], [2], [3]]);
    client.close();
    await Promise.allSettled(calls);
  });
});

describe('the answering end', () => {
  it('serves every frame of a message with the stream’s sender, and answers those finished in one turn after the first in one message', async () => {
    const served: { method: string; payload: string; from: string[]; answer: PipeAnswer }[] = [];
    const server = new PipeServer((method, request, md, answer) =>
      served.push({ method, payload: String(request), from: md.get(FROM_HEADER) as string[], answer }),
    );
    const call = new FakeStream();
    call.metadata.set(FROM_HEADER, 'n1');
    server.accept(call as unknown as ServerDuplexStream<PipeMessage__Output, PipeMessage>);
    const frames: PipeFrame[] = [1, 2, 3].map((id) => ({
      id,
      method: 'Forward',
      // A frame naming another sender is not believed: the stream's sender is.
      metadata: { [FROM_HEADER]: 'n3', traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
      payload: Buffer.from(`w${id}`),
    }));
    call.emit('data', message(frames));
    expect(served.map((s) => [s.method, s.payload, s.from])).toEqual([
      ['Forward', 'w1', ['n1']],
      ['Forward', 'w2', ['n1']],
      ['Forward', 'w3', ['n1']],
    ]);
    served[2].answer(null, Buffer.from('r3'));
    served[0].answer({ code: status.INVALID_ARGUMENT, details: 'bad' });
    served[1].answer(null, Buffer.from('r2'));
    await turn();
    expect(call.written.map((m) => framesIn(m).map((f) => [Number(f.id), f.code]))).toEqual([
      [[3, status.OK]],
      [
        [1, status.INVALID_ARGUMENT],
        [2, status.OK],
      ],
    ]);
  });
});
