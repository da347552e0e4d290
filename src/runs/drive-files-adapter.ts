/**
 * The dry run's view of Drive files (DriveFilesPort) over the Drive client: metadata of each file the rows name, read
 * with the caller's token a few at a time; a file that cannot be read becomes a sentence saying what to do.
 */
import type { DriveFileInfo, DriveFilesPort } from '../plan/dry-run-ports';
import { createDriveFiles, type DriveClientOptions, type DriveFiles } from '../drive/drive-client';
import { DriveError, translateDriveError } from '../drive/drive-errors';
import { sleep } from '../clock';

const PARALLEL = 8;
const RETRY_PAUSE_MS = 300;

/** A read that failed for now (Drive busy, or slow) is tried once more: the user's message says it was retried. */
async function metadataWithRetry(drive: DriveFiles, id: string) {
  try {
    return await drive.metadata(id);
  } catch (err) {
    if (!(err instanceof DriveError && err.retryable)) throw err;
    await sleep(RETRY_PAUSE_MS);
    return drive.metadata(id);
  }
}

/** A DriveFilesPort for one access token. */
export function driveFilesPortFor(accessToken: string, o: DriveClientOptions & { maxBytes: number }): DriveFilesPort {
  const drive = createDriveFiles(accessToken, o);
  return {
    maxBytes: o.maxBytes,
    async describe(fileIds) {
      const out = new Map<string, DriveFileInfo>();
      const queue = [...new Set(fileIds)];
      const worker = async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
          try {
            const m = await metadataWithRetry(drive, id);
            out.set(id, {
              ok: true,
              name: m.name,
              mimeType: m.mimeType,
              sizeBytes: m.sizeBytes,
              ...(m.durationMs !== undefined ? { durationMs: m.durationMs } : {}),
            });
          } catch (err) {
            const e = err instanceof DriveError ? err : translateDriveError(err, id);
            const problem = e.retryable ? `${e.userMessage} Run the dry run again.` : e.userMessage;
            out.set(id, { ok: false, problem });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
      return out;
    },
  };
}
