import type { RawCell } from '../../../appsscript/server/apps-script-types';
import { addDriveMedia, driveIdsIn, mediaTarget } from '../../../appsscript/server/drive-media';
import {
  CLOUD_PROJECT_NUMBER_PROPERTY,
  PICKER_API_KEY_PROPERTY,
  drivePickerSetup,
  openDrivePicker,
} from '../../../appsscript/server/drive-picker';
import type { PickedDriveFile } from '../../../appsscript/shared/server-rpc';
import { parseMediaEntry, splitMedia } from '../../../src/plan/media-refs';
import { createFakes, installFakes, type AppsScriptFakes } from '../fakes/fake-services';
import { FakeRange, type FakeSheet } from '../fakes/fake-spreadsheet-app';

const HEADER = ['Key', 'Platform', 'Account', 'Content', 'Media', 'Status', 'Post ID'];
const FILE_A: PickedDriveFile = { id: '1AbCdEfGhIjKlMnOpQrStUv', name: 'poster.jpg', mimeType: 'image/jpeg' };
const FILE_B: PickedDriveFile = { id: '1ZyXwVuTsRqPoNmLkJiHgFe', name: 'teaser.mp4', mimeType: 'video/mp4' };

function cells(): RawCell[][] {
  return [
    HEADER,
    ['r-1', 'twitter', 'acc_tw', 'Spring is here', '', '', ''],
    ['r-2', 'instagram', 'acc_ig', 'New colours', 'https://cdn.example.com/a.jpg', '', ''],
    ['r-3', 'linkedin', 'acc_li', 'Hiring', '', 'SCHEDULED', 'post_123'],
    ['', '', '', '', '', '', ''],
    ['r-5', 'tiktok', 'acc_tt', 'Dance', `drive:${FILE_A.id}`, '', ''],
  ];
}

describe('Add media from Drive: the sheet side', () => {
  let fakes: AppsScriptFakes;
  let uninstall: () => void;
  let sheet: FakeSheet;
  const media = (row: number) => String(sheet.cells()[row - 1]![HEADER.indexOf('Media')] ?? '');

  beforeEach(() => {
    fakes = createFakes({ cells: cells() });
    sheet = fakes.spreadsheet.activeSheet;
    uninstall = installFakes(fakes);
    fakes.PropertiesService.script.setProperty(PICKER_API_KEY_PROPERTY, 'browser-key-for-tests');
    fakes.PropertiesService.script.setProperty(CLOUD_PROJECT_NUMBER_PROPERTY, '123456789012');
  });
  afterEach(() => uninstall());

  it('when two rows are selected and two files picked, each row’s Media cell gets both as drive: entries, after what it held', () => {
    fakes.spreadsheet.selectRows([2, 3]);
    const target = mediaTarget();
    expect(target.rows.map((r) => r.rowNumber)).toEqual([2, 3]);
    const result = addDriveMedia(target, [FILE_A, FILE_B]);
    expect(media(2)).toBe(`drive:${FILE_A.id}\ndrive:${FILE_B.id}`);
    expect(media(3)).toBe(`https://cdn.example.com/a.jpg\ndrive:${FILE_A.id}\ndrive:${FILE_B.id}`);
    expect(result).toMatchObject({ rows: [2, 3], added: 4, alreadyThere: 0 });
    // The service's own Media parser reads the cell as the URL and the two Drive files.
    expect(splitMedia(media(3)).map((e) => parseMediaEntry(e))).toEqual([
      { ok: true, ref: { url: 'https://cdn.example.com/a.jpg', type: 'image' }, kind: 'image' },
      { ok: true, ref: { driveFileId: FILE_A.id }, kind: 'unknown' },
      { ok: true, ref: { driveFileId: FILE_B.id }, kind: 'unknown' },
    ]);
    expect(result.message).toBe(
      "Added 2 files to the Media cells of rows 2–3. Run a dry run to check them against each platform's rules.",
    );
    // Only the two Media cells were written, each under the document lock, which is released afterwards.
    expect(sheet.writes).toEqual([
      { row: 2, column: 5, numRows: 1, numColumns: 1, underLock: true },
      { row: 3, column: 5, numRows: 1, numColumns: 1, underLock: true },
    ]);
    expect(fakes.spreadsheet.documentLock.held).toBe(false);
  });

  it('a file a row already names (as drive: or as a share link) is not added to it twice', () => {
    sheet.edit(3, 5, `https://drive.google.com/file/d/${FILE_B.id}/view?usp=sharing`);
    fakes.spreadsheet.selectRows([3, 3], [6, 6]);
    const result = addDriveMedia(mediaTarget(), [FILE_A, FILE_B]);
    expect(media(3)).toBe(`https://drive.google.com/file/d/${FILE_B.id}/view?usp=sharing\ndrive:${FILE_A.id}`);
    expect(media(6)).toBe(`drive:${FILE_A.id}\ndrive:${FILE_B.id}`);
    expect(result).toMatchObject({ rows: [3, 6], added: 2, alreadyThere: 2 });
    expect(result.message).toMatch(/^Added 2 files to the Media cells of rows 3 and 6 \(2 files a row already named/);
  });

  it('the entries it writes are the ones the service reads: drive: ids and Drive links are recognised', () => {
    expect([
      ...driveIdsIn(
        `drive:${FILE_A.id}, https://drive.google.com/open?id=${FILE_B.id}\nhttps://cdn.example.com/x.png\nmed_123`,
      ),
    ]).toEqual([FILE_A.id, FILE_B.id]);
  });

  it('keeps Key cells as they are: it writes no key and touches no other column', () => {
    fakes.spreadsheet.selectRows([2, 2]);
    const before = sheet.cells();
    addDriveMedia(mediaTarget(), [FILE_A]);
    const after = sheet.cells();
    after.forEach((row, i) =>
      row.forEach((cell, c) => {
        if (!(i === 1 && c === HEADER.indexOf('Media'))) expect(cell).toEqual(before[i]![c]);
      }),
    );
  });

  it('refuses a selection outside the data rows: nothing selected, the header, a whole column, rows below the last post', () => {
    fakes.spreadsheet.selection = [];
    expect(() => mediaTarget()).toThrow(/^Select the post rows that should get the files/);
    fakes.spreadsheet.selectRows([1, 2]);
    expect(() => mediaTarget()).toThrow(
      'Select only post rows (rows 2 to 6 of “Posts”): the selection includes the header row.',
    );
    fakes.spreadsheet.selection = [new FakeRange(sheet, 1, 5, sheet.getMaxRows(), 1)];
    expect(() => mediaTarget()).toThrow(/includes the header row and rows 7–1000, below the last post row\.$/);
    fakes.spreadsheet.selectRows([6, 8]);
    expect(() => mediaTarget()).toThrow(/includes rows 7–8, below the last post row\.$/);
    fakes.spreadsheet.selectRows([5, 5]);
    expect(() => mediaTarget()).toThrow(
      'Row 5 is empty. Fill in Platform, Account and Content first, or select only post rows.',
    );
  });

  it('refuses a sheet without a Media column, and says how to add one', () => {
    uninstall();
    fakes = createFakes({ cells: cells().map((r) => r.filter((_, c) => c !== HEADER.indexOf('Media'))) });
    uninstall = installFakes(fakes);
    fakes.spreadsheet.selectRows([2, 2]);
    expect(() => mediaTarget()).toThrow(/^The sheet “Posts” has no Media column\. Add a column headed Media to row 1/);
  });

  it('refuses a row that already has a post in Postato, names its Post ID and how to change it, and writes nothing', () => {
    fakes.spreadsheet.selectRows([2, 4]);
    expect(() => mediaTarget()).toThrow(
      /^Row 4 already has a post in Postato \(Post ID post_123\), so the media can't change from the sheet and nothing was added\. To post with other files: unschedule the row .*clear its Key and Post ID cells/,
    );
    // A row published while the Picker was open is refused at the write, too.
    fakes.spreadsheet.selectRows([2, 3]);
    const target = mediaTarget();
    sheet.edit(3, HEADER.indexOf('Post ID') + 1, 'post_456');
    expect(() => addDriveMedia(target, [FILE_A])).toThrow(/^Row 3 already has a post in Postato \(Post ID post_456\)/);
    expect(sheet.writes).toEqual([]);
  });

  it('writes into the same rows after a sort while the Picker was open, and refuses rows that changed', () => {
    fakes.spreadsheet.selectRows([2, 3]);
    const target = mediaTarget();
    sheet.sortBy(HEADER.indexOf('Platform')); // (blank), instagram, linkedin, tiktok, twitter
    addDriveMedia(target, [FILE_B]);
    const byKey = (key: string) => sheet.cells().find((r) => r[0] === key)!;
    expect(byKey('r-1')[4]).toBe(`drive:${FILE_B.id}`);
    expect(byKey('r-2')[4]).toBe(`https://cdn.example.com/a.jpg\ndrive:${FILE_B.id}`);

    fakes.spreadsheet.selectRows([3, 3]);
    const again = mediaTarget();
    sheet.edit(3, HEADER.indexOf('Content') + 1, 'Edited by a colleague');
    const writes = sheet.writes.length;
    expect(() => addDriveMedia(again, [FILE_A])).toThrow(
      'Row 3 changed or disappeared while you were picking files, so nothing was added. Select the rows again and pick the files.',
    );
    expect(sheet.writes).toHaveLength(writes);
  });

  it('waits for the document lock and says so when another action keeps it', () => {
    fakes.spreadsheet.selectRows([2, 2]);
    const target = mediaTarget();
    fakes.spreadsheet.documentLock.heldElsewhere = true;
    expect(() => addDriveMedia(target, [FILE_A])).toThrow(/^Another Postato action on this spreadsheet is writing/);
    expect(sheet.writes).toEqual([]);
  });

  it('refuses no files, a file without a Drive id, and a tab deleted meanwhile', () => {
    fakes.spreadsheet.selectRows([2, 2]);
    const target = mediaTarget();
    expect(() => addDriveMedia(target, [])).toThrow('No files were picked, so nothing was added.');
    expect(() => addDriveMedia(target, [{ id: '../x', name: 'odd', mimeType: '' }])).toThrow(
      /“odd” without a Drive file id/,
    );
    // A Picker result without a name (or with a blank one) is called "a file", never shown as empty quotes.
    for (const nameless of [
      { id: '../x', name: '', mimeType: '' },
      { id: '', name: '  ', mimeType: 'image/jpeg' },
      {} as PickedDriveFile,
    ]) {
      expect(() => addDriveMedia(target, [nameless])).toThrow(
        /^The Picker returned a file without a Drive file id, so nothing was added\. Pick it again\.$/,
      );
    }
    expect(() => addDriveMedia({ ...target, sheetId: 999 }, [FILE_A])).toThrow(
      /^The tab “Posts” is no longer in this spreadsheet/,
    );
  });

  it('opens the Picker dialog on a good selection, and hands it the token, key, project number and rows', () => {
    fakes.spreadsheet.selectRows([2, 3]);
    expect(openDrivePicker().rows.map((r) => r.rowNumber)).toEqual([2, 3]);
    expect(fakes.SpreadsheetApp.ui.dialogs).toEqual([
      { file: 'picker', title: 'Add media from Drive', width: 1051, height: 650 },
    ]);
    expect(drivePickerSetup()).toMatchObject({
      oauthToken: 'ya29.fake-oauth-token',
      developerKey: 'browser-key-for-tests',
      appId: '123456789012',
      target: { sheetName: 'Posts', rows: [{ rowNumber: 2 }, { rowNumber: 3 }] },
    });
  });

  it('without the deployer’s Picker settings, says which script properties to set and opens nothing', () => {
    fakes.spreadsheet.selectRows([2, 2]);
    fakes.PropertiesService.script.deleteProperty(PICKER_API_KEY_PROPERTY);
    fakes.PropertiesService.script.deleteProperty(CLOUD_PROJECT_NUMBER_PROPERTY);
    expect(() => openDrivePicker()).toThrow(
      /^Add media from Drive is not set up for this add-on yet: whoever deployed it must set the script properties GOOGLE_PICKER_API_KEY and GOOGLE_CLOUD_PROJECT_NUMBER/,
    );
    fakes.PropertiesService.script.setProperty(PICKER_API_KEY_PROPERTY, 'k');
    fakes.PropertiesService.script.setProperty(CLOUD_PROJECT_NUMBER_PROPERTY, 'my-project');
    expect(() => drivePickerSetup()).toThrow(/must be the Cloud project's number \(digits only/);
    expect(fakes.SpreadsheetApp.ui.dialogs).toEqual([]);
  });
});
