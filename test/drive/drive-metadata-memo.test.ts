/**
 * The per-run memo of Drive metadata: concurrent rows share one read, a run reads a file once until the memo's time
 * runs out, another run reads afresh, and only failures the user must fix are remembered.
 */
import { ManualClock } from '../../src/clock';
import type { DriveFileMeta } from '../../src/drive/drive-client';
import { DriveError, driveMessages } from '../../src/drive/drive-errors';
import { createDriveMetadataMemo } from '../../src/drive/drive-metadata-memo';

const meta = (id: string): DriveFileMeta => ({
  id,
  name: `${id}.jpg`,
  mimeType: 'image/jpeg',
  sizeBytes: 10,
  version: '1',
});

/** A Drive client whose metadata reads are counted and answered as told. */
function countingDrive(answer: (id: string) => Promise<DriveFileMeta> = async (id) => meta(id)) {
  const reads: string[] = [];
  return {
    reads,
    metadata: (id: string) => {
      reads.push(id);
      return answer(id);
    },
  };
}

describe('Drive metadata memo', () => {
  it('when many rows of a run ask for one file at once and later, then Drive is read once until the time runs out', async () => {
    const clock = new ManualClock(0);
    const memo = createDriveMetadataMemo({ clock, ttlMs: 1000, maxEntries: 100 });
    const drive = countingDrive();
    const all = await Promise.all(Array.from({ length: 10 }, () => memo.read('run-1', 'f1', drive)));
    expect(all.every((m) => m.id === 'f1')).toBe(true);
    clock.advance(999);
    await memo.read('run-1', 'f1', drive);
    expect(drive.reads).toEqual(['f1']);
    await memo.read('run-2', 'f1', drive);
    clock.advance(1);
    await memo.read('run-1', 'f1', drive);
    expect(drive.reads).toEqual(['f1', 'f1', 'f1']);
  });

  it('when a read fails, then a passing failure is read again and one the user must fix is remembered', async () => {
    const memo = createDriveMetadataMemo({ clock: new ManualClock(0), ttlMs: 60_000, maxEntries: 100 });
    const drive = countingDrive(async (id) => {
      throw id === 'busy'
        ? new DriveError('drive_unavailable', 'Drive answered 503', { userMessage: driveMessages.unavailable(id) })
        : new DriveError('drive_file_not_found', 'Drive answered 404', { userMessage: driveMessages.notFound(id) });
    });
    for (let i = 0; i < 2; i++) {
      await expect(memo.read('run-1', 'busy', drive)).rejects.toMatchObject({ code: 'drive_unavailable' });
      await expect(memo.read('run-1', 'gone', drive)).rejects.toMatchObject({ code: 'drive_file_not_found' });
    }
    expect(drive.reads).toEqual(['busy', 'gone', 'busy']);
  });

  it('when a read is refused for the token, then the next read asks Drive again (a joined Publish brings a fresh one)', async () => {
    const memo = createDriveMetadataMemo({ clock: new ManualClock(0), ttlMs: 60_000, maxEntries: 100 });
    let tokenExpired = true;
    const drive = countingDrive(async (id) => {
      if (!tokenExpired) return meta(id);
      throw new DriveError('drive_token_invalid', 'Drive answered 401', { userMessage: driveMessages.tokenInvalid });
    });
    await expect(memo.read('run-1', 'f1', drive)).rejects.toMatchObject({ code: 'drive_token_invalid' });
    tokenExpired = false;
    await expect(memo.read('run-1', 'f1', drive)).resolves.toMatchObject({ id: 'f1' });
    expect(drive.reads).toEqual(['f1', 'f1']);
  });

  it('when more files than it holds are read, then the oldest are forgotten first', async () => {
    const memo = createDriveMetadataMemo({ clock: new ManualClock(0), ttlMs: 60_000, maxEntries: 2 });
    const drive = countingDrive();
    for (const id of ['a', 'b', 'c', 'c', 'b', 'a']) await memo.read('run-1', id, drive);
    expect(drive.reads).toEqual(['a', 'b', 'c', 'a']);
  });
});
