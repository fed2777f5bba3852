// Errors a node's storage reports. Each message says what happened and what to do about it.

/** The name of the marker a node leaves in its data directory once it found damage there. */
export const DAMAGE_MARKER = 'DAMAGED';

const REPLACE =
  'Data this node acknowledged may be lost, so it must not serve under its id again: replace this server with a new ' +
  'member (raft-otel members remove <id>, wipe or move the data directory, then add the server under a new id; see ' +
  'README "Replacing a damaged server").';

/** The data directory is damaged where acknowledged data lives: serving from it could be wrong. */
export class StorageCorruptionError extends Error {
  constructor(file: string, offset: number, reason: string, where: 'middle' | 'last' = 'middle') {
    super(
      where === 'middle'
        ? `storage is damaged in the middle of ${file} at byte ${offset} (${reason}). Records after it are intact, so ` +
            `this is not an unfinished write from a crash. ${REPLACE}`
        : `storage is damaged in the last record of ${file} at byte ${offset} (${reason}). The record is complete, so ` +
            `it was written and synced before: this is not an unfinished write from a crash. ${REPLACE}`,
    );
    this.name = 'StorageCorruptionError';
  }
}

/** A node that found damage earlier refuses to start again, even if the evidence was removed. */
export class DamagedServerError extends Error {
  constructor(dir: string, recorded: string) {
    // The recorded message usually says how to replace the server already: say it once.
    const what = recorded.trim();
    super(
      `this data directory (${dir}) was found damaged before: ${what}${what.includes(REPLACE) ? '' : ` ${REPLACE}`}`,
    );
    this.name = 'DamagedServerError';
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
