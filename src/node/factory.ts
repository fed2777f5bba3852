// The collaborators of a node in production: the write-ahead log on disk, gRPC, the key/value
// state machine. The command line builds a node with these (src/cli/node-cmd.ts).
import { KvStateMachine } from '../kv/state-machine.js';
import { DiskStorage } from '../storage/storage.js';
import { PeerClients } from '../transport/client.js';
import { RaftServer } from '../transport/server.js';
import type { NodeCollaborators } from './collaborators.js';

export const DISK_GRPC_KV: NodeCollaborators = {
  openStorage: (dataDir, bootstrap) => DiskStorage.open(dataDir, bootstrap),
  server: (opts) => new RaftServer(opts),
  clients: (opts) => new PeerClients(opts),
  stateMachine: () => new KvStateMachine(),
};
