/**
 * The per-run memo of Drive metadata: concurrent rows share one read, a run reads a file once until the memo's time
 * runs out, another run reads afresh, and only failures the user must fix are remembered, for the Drive access they
 * were read with (a Publish that joins the run brings a new one).
 */
import { ManualClock } from '../../src/clock';
import type { DriveFileMeta } from '../../src/drive/drive-client';
import { DriveError, driveMessages } from '../../src/drive/drive-errors';
import { createDriveMetadataMemo } from '../../src/drive/drive-metadata-memo';

const RUN_1 = { runId: 'run-1', grant: 'sealed-token-a' };
const RUN_2 = { runId: 'run-2', grant: 'sealed-token-a' };

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
    const all = await Promise.all(Array.from({ length: 10 }, () => memo.read(RUN_1, 'f1', drive)));
    expect(all.every((m) => m.id === 'f1')).toBe(true);
    clock.advance(999);
    await memo.read(RUN_1, 'f1', drive);
    expect(drive.reads).toEqual(['f1']);
    await memo.read(RUN_2, 'f1', drive);
    clock.advance(1);
    await memo.read(RUN_1, 'f1', drive);
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
      await expect(memo.read(RUN_1, 'busy', drive)).rejects.toMatchObject({ code: 'drive_unavailable' });
      await expect(memo.read(RUN_1, 'gone', drive)).rejects.toMatchObject({ code: 'drive_file_not_found' });
    }
    expect(drive.reads).toEqual(['busy', 'gone', 'busy']);
  });

  it('when a read is refused for the token, then the run asks Drive again only once a joined Publish brings a new grant', async () => {
    const memo = createDriveMetadataMemo({ clock: new ManualClock(0), ttlMs: 60_000, maxEntries: 100 });
    let tokenExpired = true;
    const drive = countingDrive(async (id) => {
      if (!tokenExpired) return meta(id);
      throw new DriveError('drive_token_invalid', 'Drive answered 401', { userMessage: driveMessages.tokenInvalid });
    });
    await expect(memo.read(RUN_1, 'f1', drive)).rejects.toMatchObject({ code: 'drive_token_invalid' });
    await expect(memo.read(RUN_1, 'f1', drive)).rejects.toMatchObject({ code: 'drive_token_invalid' });
    tokenExpired = false;
    await expect(memo.read({ ...RUN_1, grant: 'sealed-token-b' }, 'f1', drive)).resolves.toMatchObject({ id: 'f1' });
    expect(drive.reads).toEqual(['f1', 'f1']);
  });

  it('when a file was not found or not picked and a Publish joins the run with a new grant, then its remaining rows read it again and the answer serves both grants', async () => {
    const memo = createDriveMetadataMemo({ clock: new ManualClock(0), ttlMs: 60_000, maxEntries: 100 });
    const picked = new Set<string>();
    const drive = countingDrive(async (id) => {
      if (picked.has(id)) return meta(id);
      throw id === 'typed'
        ? new DriveError('drive_file_not_picked', 'Drive answered 403', { userMessage: driveMessages.notPicked(id) })
        : new DriveError('drive_file_not_found', 'Drive answered 404', { userMessage: driveMessages.notFound(id) });
    });
    const joined = { ...RUN_1, grant: 'sealed-token-b' };
    await expect(memo.read(RUN_1, 'typed', drive)).rejects.toMatchObject({ code: 'drive_file_not_picked' });
    await expect(memo.read(RUN_1, 'gone', drive)).rejects.toMatchObject({ code: 'drive_file_not_found' });
    // Still the old grant: answered from the memo.
    await expect(memo.read(RUN_1, 'typed', drive)).rejects.toMatchObject({ code: 'drive_file_not_picked' });
    expect(drive.reads).toEqual(['typed', 'gone']);

    // The user picks both files with "Add media from Drive" and presses Publish, which joins the run.
    picked.add('typed');
    picked.add('gone');
    await expect(memo.read(joined, 'typed', drive)).resolves.toMatchObject({ id: 'typed' });
    await expect(memo.read(joined, 'gone', drive)).resolves.toMatchObject({ id: 'gone' });
    // A row that still holds the run as read before the join is answered with the file too.
    await expect(memo.read(RUN_1, 'typed', drive)).resolves.toMatchObject({ id: 'typed' });
    await memo.read(joined, 'typed', drive);
    expect(drive.reads).toEqual(['typed', 'gone', 'typed', 'gone']);
  });

  it('when more files than it holds are read, then the oldest are forgotten first', async () => {
    const memo = createDriveMetadataMemo({ clock: new ManualClock(0), ttlMs: 60_000, maxEntries: 2 });
    const drive = countingDrive();
    for (const id of ['a', 'b', 'c', 'c', 'b', 'a']) await memo.read(RUN_1, id, drive);
    expect(drive.reads).toEqual(['a', 'b', 'c', 'a']);
  });
});
