/**
 * Drive metadata remembered per run and file for a short while, so a run reads each file's metadata once however many
 * of its rows name it (50 rows may share a picture), and rows waiting for a shared upload do not ask again on every
 * turn. Concurrent asks for the same file share one read. Keyed by run, not by token: a new run (Retry after the user
 * replaced a file) always reads afresh.
 */
import type { Clock } from '../clock';
import type { DriveFileMeta, DriveFiles } from './drive-client';
import { DriveError } from './drive-errors';

/** Which run asks, and with which Drive access. */
export interface DriveMemoScope {
  runId: string;
  /**
   * Names the Drive access the run reads with now (its sealed token: every Publish that joins the run seals a fresh
   * one). A refusal the user must fix is remembered only for the access it was read with.
   */
  grant: string;
}

/** Metadata reads shared by the rows of a run. */
export interface DriveMetadataMemo {
  /** The file's metadata as read for this run less than `ttlMs` ago, or one read shared by concurrent callers. */
  read(scope: DriveMemoScope, fileId: string, drive: Pick<DriveFiles, 'metadata'>): Promise<DriveFileMeta>;
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
  grant: string;
  meta: Promise<DriveFileMeta>;
  /** Set once the read failed for good: the entry then answers only reads with the same grant. */
  refused?: boolean;
}

/** A memo in this process's memory (each instance of the scale-out tier reads a file once per run). */
export function createDriveMetadataMemo(o: DriveMetadataMemoOptions): DriveMetadataMemo {
  const entries = new Map<string, Entry>();
  return {
    read({ runId, grant }, fileId, drive) {
      const key = `${runId}:${fileId}`;
      const now = o.clock.now();
      const hit = entries.get(key);
      // After "not found", "not picked" or a refused token the user picks the file (or signs in again) and presses
      // Publish, which joins this run with a new grant: its remaining rows must read the file again.
      if (hit && now - hit.at < o.ttlMs && !(hit.refused && hit.grant !== grant)) return hit.meta;
      const entry: Entry = { at: now, grant, meta: drive.metadata(fileId) };
      entries.delete(key);
      entries.set(key, entry);
      while (entries.size > o.maxEntries) entries.delete(entries.keys().next().value as string);
      // A failure that may pass (Drive busy) is forgotten at once; one the user must fix is kept for this grant.
      entry.meta.catch((err: unknown) => {
        if (err instanceof DriveError && !err.retryable) entry.refused = true;
        else if (entries.get(key) === entry) entries.delete(key);
      });
      return entry.meta;
    },
  };
}
