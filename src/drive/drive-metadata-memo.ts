/**
 * Drive metadata remembered per run and file for a short while, so a run reads each file's metadata once however many
 * of its rows name it (50 rows may share a picture), and rows waiting for a shared upload do not ask again on every
 * turn. Concurrent asks for the same file share one read. Keyed by run, not by token: a new run (Retry after the user
 * replaced a file) always reads afresh.
 */
import type { Clock } from '../clock';
import type { DriveFileMeta, DriveFiles } from './drive-client';
import { DriveError } from './drive-errors';

/** Metadata reads shared by the rows of a run. */
export interface DriveMetadataMemo {
  /** The file's metadata as read for this run less than `ttlMs` ago, or one read shared by concurrent callers. */
  read(runId: string, fileId: string, drive: Pick<DriveFiles, 'metadata'>): Promise<DriveFileMeta>;
}

export interface DriveMetadataMemoOptions {
  clock: Clock;
  /** How long a read serves; a longer run reads the file again (its owner may have replaced it meanwhile). */
  ttlMs: number;
  /** Oldest entries go first beyond this. */
  maxEntries: number;
}

interface Entry {
  at: number;
  meta: Promise<DriveFileMeta>;
}

/** A memo in this process's memory (each instance of the scale-out tier reads a file once per run). */
export function createDriveMetadataMemo(o: DriveMetadataMemoOptions): DriveMetadataMemo {
  const entries = new Map<string, Entry>();
  return {
    read(runId, fileId, drive) {
      const key = `${runId}:${fileId}`;
      const now = o.clock.now();
      const hit = entries.get(key);
      if (hit && now - hit.at < o.ttlMs) return hit.meta;
      const entry: Entry = { at: now, meta: drive.metadata(fileId) };
      entries.delete(key);
      entries.set(key, entry);
      while (entries.size > o.maxEntries) entries.delete(entries.keys().next().value as string);
      // A failure that may pass (Drive busy) is forgotten; one the user must fix is kept, like a read that worked. A
      // refused token is about the token, not the file: a Publish that joins the run hands it a fresh one.
      entry.meta.catch((err: unknown) => {
        const definite = err instanceof DriveError && !err.retryable && err.code !== 'drive_token_invalid';
        if (!definite && entries.get(key) === entry) entries.delete(key);
      });
      return entry.meta;
    },
  };
}
