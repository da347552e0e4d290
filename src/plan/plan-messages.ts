/**
 * Every sentence the dry run shows a user about their sheet, in one place so the wording stays consistent and can be
 * reviewed at once. Each message says what is wrong and what to do about it. Row messages are written without their
 * column prefix where the caller adds it (`Column: message`); the planner's warnings carry theirs.
 */

/** "an X", "an Instagram", "a LinkedIn": the article as the platform's name is spoken. */
export function withArticle(label: string): string {
  return `${/^[AEIOX]/i.test(label) ? 'an' : 'a'} ${label}`;
}

/** Run-level notes: the header row and the settings. */
export const settingsMessages = {
  startPassed: (given: string, startIso: string) =>
    `The start time ${given} has passed; auto-slotted rows start at ${startIso} instead.`,
  missingColumns: (missing: string[]) =>
    `The header row has no ${missing.join(', ')} column${missing.length > 1 ? 's' : ''}: ` +
    `add ${missing.length > 1 ? 'them' : 'it'} (names are matched case-insensitively).`,
  unknownColumns: (unknown: string[]) => `Columns ignored (not part of the sheet contract): ${unknown.join(', ')}.`,
  duplicateColumns: (duplicates: string[]) =>
    `Columns that appear twice (only the first is read): ${duplicates.join(', ')}.`,
};

/** Messages of one row on its own (the validator); the caller prefixes the column. */
export const cellMessages = {
  keyEmpty:
    'is empty: this row needs a key before it can be published. ' +
    'Run Dry run from the add-on (it fills missing keys) or type a value used by no other row.',
  platformEmpty: 'is empty: write instagram, x, linkedin, tiktok or youtube.',
  platformUnknown: (input: string) =>
    `"${input}" is not a platform we publish to: use instagram, x (twitter), linkedin, tiktok or youtube.`,
  accountEmpty: "is empty: write the Postato account id (acc_…) or the account's @username.",
  zoneUnknown: (zone: string) =>
    `"${zone}" is not an IANA time zone: write e.g. America/New_York, Europe/London or Asia/Kathmandu, ` +
    "or leave it blank to use the sheet's zone.",
  optionsNotObject: 'must be a JSON object such as {"privacy":"public"}.',
  optionsNotObjectShort: 'must be a JSON object.',
  optionsNotJson: (problem: string) =>
    `is not valid JSON (${problem}): write an object such as {"privacy":"public"}, or leave it blank.`,
  optionsTooDeep: (maxDepth: number) =>
    `nests objects or arrays more than ${maxDepth} levels deep: write a flat object such as {"privacy":"public"}.`,
  optionsTooLong: (length: number, maxChars: number) =>
    `is ${length} characters of JSON; at most ${maxChars} are accepted: keep only the options Postato needs.`,
  postTypeUnknown: (given: string, label: string, postTypes: readonly string[], fallback: string) =>
    `"${given}" is not a ${label} post type: use ${postTypes.join(', ')} (or leave it blank for ${fallback}).`,
  partsWithoutThread: (parts: number) =>
    `Content has ${parts} parts separated by --- lines: set Post type to thread, or remove the --- lines.`,
  separatorOutsideX: 'has lines holding only --- (thread separators), which only X threads use: remove them.',
  threadTooLong: (parts: number, max: number) =>
    `this thread has ${parts} parts; X allows at most ${max}: split it into two rows.`,
  threadTooShort: 'a thread needs at least 2 parts separated by a line holding only ---.',
  threadPartEmpty: (part: number) => `part ${part} of the thread is empty: write it or remove its --- line.`,
  contentEmpty: (label: string, postType: string, orMedia: boolean) =>
    `is empty: a ${label} ${postType} needs text${orMedia ? ' or media' : ''}.`,
  contentTooLong: (o: { part?: number; length: number; x: boolean; label: string; limit: number }) =>
    `${o.part !== undefined ? `part ${o.part} is` : 'is'} ${o.length} ` +
    `${o.x ? 'weighted characters as X counts them (links count 23, emoji and CJK count 2)' : 'characters'}; ` +
    `${o.label} allows ${o.limit}${o.x ? ' on standard accounts' : ''}: shorten it by ${o.length - o.limit}.`,
  titleEmpty: 'is empty: YouTube needs a video title (up to 100 characters).',
  titleTooLong: (length: number, limit: number) => `is ${length} characters; YouTube allows ${limit}: shorten it.`,
  titleIgnored: (label: string) => `Title: only YouTube uses a title; it is ignored for ${label}.`,
};

/** Messages about the Scheduled at cell as read on its own (the time parser); the caller prefixes the column. */
export const timeCellMessages = {
  notRealTime: (text: string) => `"${text}" is not a real date or time: check the day, month and hour.`,
  inDstGap: (text: string, zone: string) =>
    `"${text}" does not exist in ${zone}: the clocks jump forward that night (daylight saving time). ` +
    'Pick a time outside the gap.',
  inDstOverlap: (text: string, zone: string, chosenLocal: string, chosenUtc: string | null) =>
    `"${text}" happens twice in ${zone} (the clocks go back that night); ` +
    `took the first one, ${chosenLocal} (${chosenUtc}). Write the time with an offset to choose the other.`,
  serialNotDate: (text: string) => `${text} is not a date: use a date-time such as 2025-06-01 09:30.`,
  serialNoTime: (day: string) => `${day} has no time of day: add one, e.g. ${day} 09:30.`,
  boolean: 'holds TRUE, not a date: write a date-time such as 2025-06-01 09:30.',
  readAsMonthDay: (text: string, readAs: string) =>
    `"${text}" was read as month/day (${readAs}); write 2025-06-01 style dates to avoid any doubt.`,
  unreadable: (text: string) =>
    `"${text}" is not a date-time we can read: write e.g. 2025-06-01 09:30, 6/1/2025 9:30 AM, ` +
    '2025-06-01T09:30:00-03:00, or leave it blank to auto-slot.',
  noTime: (text: string) =>
    `"${text}" has no time of day: add one, e.g. "${text} 09:30", or leave the cell blank to auto-slot.`,
  badAmPmHour: (text: string) => `"${text}" has an impossible hour for AM/PM (use 1–12, or a 24-hour time).`,
};

/** Why one entry of the Media cell cannot be sent (`entry` is already shortened for display). */
export const mediaEntryMessages = {
  notUrlOrId: (entry: string) =>
    `"${entry}" is neither an https URL, a Google Drive file link (drive:<file id>) nor a Postato media id (med_…).`,
  notHttps: (entry: string) => `"${entry}" must use https:// (Postato refuses other links).`,
  credentials: (entry: string) => `"${entry}" carries a user name or password: use a public link without credentials.`,
  nonPublicHost: (entry: string) =>
    `"${entry}" points at a private, loopback or link-local address that Postato cannot reach: use a public URL.`,
  photosShareLink: (entry: string) =>
    `"${entry}" is a Google Photos share link, which opens a viewer page, not the file itself: ` +
    'put the file in Google Drive and use "Add media from Drive", or upload it to Postato and use its med_… id.',
  driveLinkWithoutFile: (entry: string) =>
    `"${entry}" is a Google Drive link that names no file (a folder or a search): ` +
    'use the link of one file (Share › Copy link), or "Add media from Drive" in the sidebar.',
  googleEditorFile: (entry: string) =>
    `"${entry}" is a Google Docs, Sheets or Slides file, which cannot be posted as media: ` +
    'download it as PDF or an image, put that file in Drive and use its link.',
};

const size = (bytes: number) =>
  bytes >= 1024 ** 3 ? `${+(bytes / 1024 ** 3).toFixed(1)} GB` : `${+(bytes / 1024 ** 2).toFixed(1)} MB`;
const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** One Drive file that a platform (or this service) will not take, as whole sentences. */
export const mediaFileMessages = {
  notMedia: (file: string, mimeType: string) =>
    `${file} is ${mimeType}, not a picture, a video or a PDF: pick another file.`,
  overServiceLimit: (file: string, bytes: number, max: number) =>
    `${file} is ${size(bytes)}; this service moves Drive files of at most ${size(max)}. Upload it to Postato yourself and put its med_… id in the Media cell.`,
  wrongType: (file: string, mimeType: string, label: string, postType: string, types: readonly string[]) =>
    `${file} is ${mimeType}, which a ${label} ${postType} does not take (it takes ${types.join(', ')}): convert it or pick another file.`,
  tooLarge: (file: string, bytes: number, label: string, postType: string, max: number) =>
    `${file} is ${size(bytes)}; a ${label} ${postType} takes at most ${size(max)} per file: use a smaller file.`,
  tooLong: (file: string, ms: number, label: string, postType: string, max: number) =>
    `${file} runs ${seconds(ms)}; a ${label} ${postType} video may run at most ${seconds(max)}: trim it.`,
  tooShort: (file: string, ms: number, label: string, postType: string, min: number) =>
    `${file} runs ${seconds(ms)}; a ${label} ${postType} video must run at least ${seconds(min)}.`,
  noDriveAccess:
    'names Google Drive files, but this request carried no Drive access: run it from the sidebar of the add-on, which passes it on (the command line cannot read Drive files; use their med_… ids there).',
};

/** Platform media rules broken by one post, as whole sentences. */
export const mediaRuleMessages = {
  noDocuments: (label: string, postType: string) => `${label} ${postType} posts cannot carry documents (PDF).`,
  tweetMixed: 'A tweet carries up to 4 images, or 1 video, or 1 GIF: remove the extra media.',
  tweetTooMany: (n: number) => `A tweet carries at most 4 images; this one has ${n}.`,
  carouselCount: (n: number) => `An Instagram carousel needs 2 to 10 media items; this one has ${n}.`,
  instagramSingle: (postType: string, n: number) =>
    `An Instagram ${postType} needs exactly 1 ${postType === 'reel' ? 'video' : 'image or video'}; this one has ${n}.`,
  reelNeedsVideo: 'An Instagram reel needs a video, not an image.',
  linkedinDocumentCount: (n: number) => `A LinkedIn document post needs exactly 1 PDF; this one has ${n} media items.`,
  linkedinDocumentPdf: 'A LinkedIn document post needs a PDF.',
  linkedinMixed: 'A LinkedIn post carries up to 9 images or 1 video: remove the extra media.',
  linkedinTooMany: (n: number) => `A LinkedIn post carries at most 9 images; this one has ${n}.`,
  tiktokPhotoCount: (n: number) => `A TikTok photo post needs 2 to 35 images; this one has ${n}.`,
  tiktokPhotoImagesOnly: 'A TikTok photo post takes images only.',
  tiktokVideoCount: (n: number) => `A TikTok video post needs exactly 1 video; this one has ${n} media items.`,
  tiktokVideoNeedsVideo: 'A TikTok video post needs a video, not an image.',
  youtubeCount: (postType: string, n: number) =>
    `A YouTube ${postType} needs exactly 1 video; this one has ${n} media items.`,
  youtubeNeedsVideo: (postType: string) => `A YouTube ${postType} needs a video, not an image.`,
};

/** Messages of the planner: rows seen together, Postato's accounts and posts, and time. */
export const planMessages = {
  notApproved:
    'Approved: not ticked, so Publish leaves this row out. Tick its Approved box once the post is signed off.',
  editedAfterApproval: (by: string, atIso: string) =>
    `Approved: the row was edited after it was approved (tick seen from ${by} at ${atIso}), so Publish leaves it out ` +
    'until the new content is approved: untick Approved, run a dry run, then tick it again.',
  keyReused: (key: string, firstRow: number) =>
    `"${key}" is also used by row ${firstRow}: ` +
    'give this row a key no other row uses (clear it and the add-on fills a new one).',
  accountsUnchecked:
    "Postato's account list did not answer: accounts were not checked. " +
    'They are checked again when Publish sends each post.',
  accountUnknown: (account: string, label: string, names: string[]) =>
    `"${account}" is not ${withArticle(label)} account of this Postato workspace: ` +
    (names.length
      ? `use one of ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`
      : `connect ${withArticle(label)} account in Postato first`) +
    '.',
  accountWrongPlatform: (id: string, username: string, platform: string, label: string) =>
    `${id} (@${username}) is a ${platform} account, not ${label}: fix the Platform or the Account.`,
  accountNotConnected: (username: string, status: string) =>
    `@${username} is ${status.replace(/_/g, ' ')} in Postato: reconnect it there, then run the dry run again.`,
  timeInPast: (local: string) => `${local} is in the past: pick a future time, or leave the cell blank to auto-slot.`,
  timeFarAway: (local: string) =>
    `Scheduled at: ${local} is more than a year away; Postato accepts it but check the year.`,
  nowPublishes: 'Scheduled at: "now" publishes as soon as Publish sends the post.',
  nowTwice: (earlierRow: number, gapMinutes: number) =>
    `Scheduled at: row ${earlierRow} also publishes this account "now": ` +
    `the two go out together, without the ${gapMinutes}-minute gap.`,
  movedLater: (minutes: number, local: string, gapMinutes: number, byRow: number | undefined) =>
    `Scheduled at: moved ${minutes >= 1 ? `${minutes} min` : 'less than a minute'} later, to ${local}, ` +
    `to keep ${gapMinutes} minutes after ${byRow !== undefined ? `row ${byRow}` : 'another post'} of the same account.`,
  shiftedSeconds: (seconds: number) => `Scheduled at: shifted ${seconds} s so no two posts leave in the same second.`,
  collisionsUnchecked:
    "Postato's list of scheduled posts did not answer: collisions with posts made outside this sheet were not checked.",
  collidesWithPost: (postId: string, local: string, gapMinutes: number) =>
    `Scheduled at: post ${postId}, already scheduled in Postato for this account at ${local}, ` +
    `is less than ${gapMinutes} minutes away: move one of them.`,
  collisionsSummary: (count: number, gapMinutes: number, rows: number[]) =>
    `${count} planned post${count > 1 ? 's are' : ' is'} within ${gapMinutes} minutes of a post ` +
    `already scheduled in Postato for the same account (rows ${rows.slice(0, 20).join(', ')}).`,
  tooSoonForPacing: (local: string) =>
    `Scheduled at: ${local} is too soon: Publish may not create this post before then (creation is paced). ` +
    'Move it later or leave it blank to auto-slot.',
  lateRowsSummary: (rows: number[]) =>
    `Rows ${rows.slice(0, 20).join(', ')}${rows.length > 20 ? ', …' : ''} ` +
    'are scheduled so soon that pacing may create them after their time.',
  editedButFinal: (status: string) =>
    `This row was edited, but its post is ${status} in Postato and can no longer change: ` +
    'to post the new version, move it to a new row (or clear its Key and Post ID so the add-on fills a new key).',
  rescheduleInPast: (local: string) =>
    `${local} is in the past: pick a future time to reschedule this post, or undo the edit.`,
  editedButDue:
    'This row was edited, but its post was due already, so it can no longer change: ' +
    'to post the new version, move it to a new row.',
  changed:
    'Content or time differs from the post in Postato: press Reschedule changed rows to update it, or undo the edit.',
  overDailyCap: (label: string, cap: number, postNumber: number, accountId: string, day: string) =>
    `Scheduled at: ${label} allows about ${cap} posts per account per day; ` +
    `this is post ${postNumber} for ${accountId} on ${day}: move it to another day.`,
  dailyCapSummary: (label: string, accountId: string, count: number, day: string, cap: number, rows: number[]) =>
    `${label} daily cap: ${accountId} has ${count} posts on ${day} (cap ${cap}); ` +
    `rows over the cap: ${rows.join(', ')}.`,
  repeatedContent: (earlierRow: number) =>
    `Content: the same text goes to this account in row ${earlierRow} less than a day earlier; ` +
    'platforms often reject or hide duplicates: change the text or the day.',
};

/** The summary's sentence on how long Publish takes under Postato's limit. */
export const pacingMessages = {
  nothing: 'Nothing to create.',
  atOnce: (posts: string, rule: string, duration: string) =>
    `${posts} go out at once (${rule}): Publish takes about ${duration}.`,
  inBatches: (posts: string, batches: number, limit: number, windowSeconds: number, rule: string, duration: string) =>
    `${posts} go out in ${batches} batches of up to ${limit}, one per ${windowSeconds} s window (${rule}): ` +
    `Publish takes about ${duration}.`,
  rule: (limit: number, windowSeconds: number) => `Postato allows ${limit} creations per ${windowSeconds} s per tenant`,
};
