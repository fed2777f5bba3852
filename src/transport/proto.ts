// Loads proto/raft.proto at run time (the generated types in ./generated describe its shape).
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType } from './generated/raft.js';

/** The project root: the nearest folder above this file holding proto/raft.proto (this works from
 *  the sources and from the compiled output alike). */
function protoPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'proto', 'raft.proto');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find proto/raft.proto above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export const LOADER_OPTIONS = { longs: Number, enums: String, defaults: true, arrays: true, objects: true } as const;

let loaded: ProtoGrpcType | null = null;

export function raftProto(): ProtoGrpcType {
  loaded ??= loadPackageDefinition(loadSync(protoPath(), LOADER_OPTIONS)) as unknown as ProtoGrpcType;
  return loaded;
}

/** The largest peer message, sent or received. gRPC's default 4 MB is too small for a snapshot of a
 *  busy store (a snapshot travels as one message). An AppendEntries batch is cut well below it
 *  (see MAX_APPEND_CHARS in node.ts). grpc-js refuses a larger message from its length prefix, as
 *  its frames arrive, before decoding anything. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
