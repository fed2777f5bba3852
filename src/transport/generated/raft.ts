import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AppendEntriesReply as _raft_AppendEntriesReply, AppendEntriesReply__Output as _raft_AppendEntriesReply__Output } from './raft/AppendEntriesReply.js';
import type { AppendEntriesRequest as _raft_AppendEntriesRequest, AppendEntriesRequest__Output as _raft_AppendEntriesRequest__Output } from './raft/AppendEntriesRequest.js';
import type { ConfState as _raft_ConfState, ConfState__Output as _raft_ConfState__Output } from './raft/ConfState.js';
import type { Empty as _raft_Empty, Empty__Output as _raft_Empty__Output } from './raft/Empty.js';
import type { Entry as _raft_Entry, Entry__Output as _raft_Entry__Output } from './raft/Entry.js';
import type { ForwardReply as _raft_ForwardReply, ForwardReply__Output as _raft_ForwardReply__Output } from './raft/ForwardReply.js';
import type { ForwardRequest as _raft_ForwardRequest, ForwardRequest__Output as _raft_ForwardRequest__Output } from './raft/ForwardRequest.js';
import type { Header as _raft_Header, Header__Output as _raft_Header__Output } from './raft/Header.js';
import type { InstallSnapshotReply as _raft_InstallSnapshotReply, InstallSnapshotReply__Output as _raft_InstallSnapshotReply__Output } from './raft/InstallSnapshotReply.js';
import type { InstallSnapshotRequest as _raft_InstallSnapshotRequest, InstallSnapshotRequest__Output as _raft_InstallSnapshotRequest__Output } from './raft/InstallSnapshotRequest.js';
import type { PipeFrame as _raft_PipeFrame, PipeFrame__Output as _raft_PipeFrame__Output } from './raft/PipeFrame.js';
import type { PipeMessage as _raft_PipeMessage, PipeMessage__Output as _raft_PipeMessage__Output } from './raft/PipeMessage.js';
import type { RaftClient as _raft_RaftClient, RaftDefinition as _raft_RaftDefinition } from './raft/Raft.js';
import type { ReadIndexReply as _raft_ReadIndexReply, ReadIndexReply__Output as _raft_ReadIndexReply__Output } from './raft/ReadIndexReply.js';
import type { ReadIndexRequest as _raft_ReadIndexRequest, ReadIndexRequest__Output as _raft_ReadIndexRequest__Output } from './raft/ReadIndexRequest.js';
import type { RequestVoteReply as _raft_RequestVoteReply, RequestVoteReply__Output as _raft_RequestVoteReply__Output } from './raft/RequestVoteReply.js';
import type { RequestVoteRequest as _raft_RequestVoteRequest, RequestVoteRequest__Output as _raft_RequestVoteRequest__Output } from './raft/RequestVoteRequest.js';
import type { Snapshot as _raft_Snapshot, Snapshot__Output as _raft_Snapshot__Output } from './raft/Snapshot.js';
import type { TimeoutNowRequest as _raft_TimeoutNowRequest, TimeoutNowRequest__Output as _raft_TimeoutNowRequest__Output } from './raft/TimeoutNowRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  raft: {
    AppendEntriesReply: MessageTypeDefinition<_raft_AppendEntriesReply, _raft_AppendEntriesReply__Output>
    AppendEntriesRequest: MessageTypeDefinition<_raft_AppendEntriesRequest, _raft_AppendEntriesRequest__Output>
    ConfState: MessageTypeDefinition<_raft_ConfState, _raft_ConfState__Output>
    Empty: MessageTypeDefinition<_raft_Empty, _raft_Empty__Output>
    Entry: MessageTypeDefinition<_raft_Entry, _raft_Entry__Output>
    ForwardReply: MessageTypeDefinition<_raft_ForwardReply, _raft_ForwardReply__Output>
    ForwardRequest: MessageTypeDefinition<_raft_ForwardRequest, _raft_ForwardRequest__Output>
    Header: MessageTypeDefinition<_raft_Header, _raft_Header__Output>
    InstallSnapshotReply: MessageTypeDefinition<_raft_InstallSnapshotReply, _raft_InstallSnapshotReply__Output>
    InstallSnapshotRequest: MessageTypeDefinition<_raft_InstallSnapshotRequest, _raft_InstallSnapshotRequest__Output>
    PipeFrame: MessageTypeDefinition<_raft_PipeFrame, _raft_PipeFrame__Output>
    PipeMessage: MessageTypeDefinition<_raft_PipeMessage, _raft_PipeMessage__Output>
    Raft: SubtypeConstructor<typeof grpc.Client, _raft_RaftClient> & { service: _raft_RaftDefinition }
    ReadIndexReply: MessageTypeDefinition<_raft_ReadIndexReply, _raft_ReadIndexReply__Output>
    ReadIndexRequest: MessageTypeDefinition<_raft_ReadIndexRequest, _raft_ReadIndexRequest__Output>
    RequestVoteReply: MessageTypeDefinition<_raft_RequestVoteReply, _raft_RequestVoteReply__Output>
    RequestVoteRequest: MessageTypeDefinition<_raft_RequestVoteRequest, _raft_RequestVoteRequest__Output>
    Snapshot: MessageTypeDefinition<_raft_Snapshot, _raft_Snapshot__Output>
    TimeoutNowRequest: MessageTypeDefinition<_raft_TimeoutNowRequest, _raft_TimeoutNowRequest__Output>
  }
}

