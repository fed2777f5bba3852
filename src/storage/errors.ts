// Errors a node's storage reports. Each message says what happened and what to do about it.

/** The data directory is damaged where acknowledged data lives: serving from it could be wrong. */
export class StorageCorruptionError extends Error {
  constructor(file: string, offset: number, reason: string) {
    super(
      `storage is damaged in the middle of ${file} at byte ${offset} (${reason}). Records after it are intact, so this ` +
        `is not an unfinished write from a crash: data this node acknowledged may be lost, and it must not serve. ` +
        `Restore the data directory from a backup, or wipe it and replace this server with a new member ` +
        `(raft-otel members remove <id>, then add a new id; see README "Replacing a server").`,
    );
    this.name = 'StorageCorruptionError';
  }
}

/** A write or fsync failed: durability can no longer be promised, so the node must stop. */
export class StorageWriteError extends Error {
  constructor(what: string, cause: unknown) {
    super(
      `${what} failed (${cause instanceof Error ? cause.message : String(cause)}). A node that cannot make its writes ` +
        `durable must not acknowledge anything, so it stops here. Check the disk (space, permissions, health), then restart the node.`,
    );
    this.name = 'StorageWriteError';
  }
}
