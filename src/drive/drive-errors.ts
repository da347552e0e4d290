/**
 * DriveError: a failed Google Drive call translated where it enters (GaxiosError → a stable code), with a sentence
 * that tells the campaign manager what to do. Tokens never appear in a message.
 */
import { AppError } from '../errors';

/** The stable codes callers branch on. */
export type DriveErrorCode =
  | 'drive_token_invalid'
  | 'drive_file_not_found'
  | 'drive_file_not_picked'
  | 'drive_download_restricted'
  | 'drive_not_downloadable'
  | 'drive_unavailable';

/** A failed Drive call; `retryable` ones (429, 5xx, network) may succeed later, the others need the user. */
export class DriveError extends AppError {
  declare readonly code: DriveErrorCode;
  readonly userMessage: string;
  readonly httpStatus?: number;

  constructor(code: DriveErrorCode, message: string, o: { userMessage: string; httpStatus?: number; cause?: unknown }) {
    super(code, message, { retryable: code === 'drive_unavailable', cause: o.cause });
    this.name = 'DriveError';
    this.userMessage = o.userMessage;
    this.httpStatus = o.httpStatus;
  }
}

/** What the user reads about one Drive file (`label` is its name in quotes, or its id). */
export const driveMessages = {
  tokenInvalid:
    'Google Drive refused the access the add-on passed on (it expired after an hour, or was revoked). Open the sidebar ' +
    'and press Retry failed rows: the add-on sends a fresh one.',
  // Under drive.file Google mostly answers 404 for a file the user never picked (to the app it does not exist), so a
  // 404 leads with picking; deleted and unshared files look the same and come second.
  notFound: (label: string) =>
    `Google Drive does not let the add-on read the file ${label}. If its link was typed or pasted in, pick it once ` +
    'with "Add media from Drive" in the sidebar (the add-on may read only the files you picked there). If the Picker ' +
    'does not show it, it was deleted or its owner has not shared it with you: ask the owner to share it with you ' +
    '(Viewer is enough).',
  notPicked: (label: string) =>
    'The add-on may read only the Drive files you picked with "Add media from Drive" (drive.file access), and the ' +
    `file ${label} was typed or pasted in by hand: pick it once with "Add media from Drive" in the sidebar, then ` +
    'run it again.',
  downloadRestricted: (label: string) =>
    `The owner of the Drive file ${label} turned off downloading for viewers: ask them to allow it (or to make you ` +
    'an editor), or put a copy you own in Drive.',
  notDownloadable: (label: string) =>
    `The Drive file ${label} is a Google Docs, Sheets or Slides file, which cannot be posted: download it as PDF or ` +
    'an image, put that in Drive and use its link.',
  unavailable: (label: string) => `Google Drive did not answer for the file ${label} right now (it was retried).`,
};

interface GaxiosLike {
  status?: number;
  response?: { status?: number; data?: unknown };
  code?: string;
}

/** The `reason` of a Drive v3 error body (`{error: {errors: [{reason}]}}`), if any. */
function reasonOf(data: unknown): string {
  const errors = (data as { error?: { errors?: Array<{ reason?: unknown }> } } | null)?.error?.errors;
  const reason = Array.isArray(errors) ? errors[0]?.reason : undefined;
  return typeof reason === 'string' ? reason : '';
}

/** Translates anything thrown by a Drive call about one file. */
export function translateDriveError(err: unknown, label: string): DriveError {
  if (err instanceof DriveError) return err;
  const e = err as GaxiosLike | null;
  const status = e?.response?.status ?? e?.status;
  const reason = reasonOf(e?.response?.data);
  const make = (code: DriveErrorCode, userMessage: string) =>
    new DriveError(code, `Drive answered ${status ?? 'nothing'}${reason ? ` (${reason})` : ''} for ${label}`, {
      userMessage,
      httpStatus: status,
      cause: err,
    });
  if (status === 401) return make('drive_token_invalid', driveMessages.tokenInvalid);
  if (status === 404) return make('drive_file_not_found', driveMessages.notFound(label));
  if (status === 403) {
    if (reason === 'appNotAuthorizedToFile') return make('drive_file_not_picked', driveMessages.notPicked(label));
    if (reason === 'cannotDownloadFile')
      return make('drive_download_restricted', driveMessages.downloadRestricted(label));
    if (reason === 'fileNotDownloadable') return make('drive_not_downloadable', driveMessages.notDownloadable(label));
    if (reason === 'insufficientFilePermissions') return make('drive_file_not_found', driveMessages.notFound(label));
    // rateLimitExceeded, userRateLimitExceeded and the like: try again later.
    return make('drive_unavailable', driveMessages.unavailable(label));
  }
  return make('drive_unavailable', driveMessages.unavailable(label));
}
