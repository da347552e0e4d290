/**
 * The Drive client: the one place that calls Google Drive API v3 (googleapis), with the caller's short-lived access
 * token (drive.file scope). It reads a file's metadata and downloads its bytes; the token is only ever held by the
 * OAuth2 client of one call chain and never logged. gaxios' own retries are off: the publish step decides.
 */
import { Readable } from 'node:stream';
import { google, type drive_v3 } from 'googleapis';
import { translateDriveError } from './drive-errors';

/** What the service needs to know about a Drive file. */
export interface DriveFileMeta {
  id: string;
  name: string;
  mimeType: string;
  /** Bytes; 0 when Drive gives no size (Google Docs files). */
  sizeBytes: number;
  /** Drive's version number: it goes up with every change of the content. */
  version: string;
  /** Video length when Drive has processed the video. */
  durationMs?: number;
}

/** A file's bytes as a stream, with the length Drive declared. */
export interface DriveDownload {
  stream: Readable;
  sizeBytes: number;
}

/** Reading files with one user's token. */
export interface DriveFiles {
  metadata(fileId: string): Promise<DriveFileMeta>;
  download(fileId: string, label: string): Promise<DriveDownload>;
}

export interface DriveClientOptions {
  /** Root URL of the Drive API (the Drive fake in tests); default Google's. */
  rootUrl?: string;
  timeoutMs?: number;
}

const FIELDS = 'id,name,mimeType,size,version,videoMediaMetadata(durationMillis)';

/** A Drive client for one access token. */
export function createDriveFiles(accessToken: string, o: DriveClientOptions = {}): DriveFiles {
  const auth = new google.auth.OAuth2({ transporterOptions: { fetchImplementation: nativeFetch } });
  auth.setCredentials({ access_token: accessToken });
  const drive: drive_v3.Drive = google.drive({
    version: 'v3',
    auth,
    ...(o.rootUrl ? { rootUrl: o.rootUrl.replace(/\/*$/, '/') } : {}),
    retry: false,
    timeout: o.timeoutMs ?? 30_000,
    fetchImplementation: nativeFetch,
  });

  return {
    async metadata(fileId) {
      try {
        const res = await drive.files.get({ fileId, fields: FIELDS, supportsAllDrives: true });
        const f = res.data;
        const duration = Number(f.videoMediaMetadata?.durationMillis);
        return {
          id: f.id ?? fileId,
          name: f.name ?? fileId,
          mimeType: (f.mimeType ?? 'application/octet-stream').toLowerCase(),
          sizeBytes: Number(f.size ?? 0),
          version: String(f.version ?? '0'),
          ...(Number.isFinite(duration) && duration > 0 ? { durationMs: duration } : {}),
        };
      } catch (err) {
        throw translateDriveError(err, fileId);
      }
    },

    async download(fileId, label) {
      try {
        const res = await drive.files.get(
          { fileId, alt: 'media', supportsAllDrives: true },
          { responseType: 'stream', timeout: 0 },
        );
        const data = res.data as unknown;
        const stream =
          data instanceof Readable ? data : Readable.fromWeb(data as Parameters<typeof Readable.fromWeb>[0]);
        return { stream, sizeBytes: Number(res.headers?.['content-length'] ?? 0) };
      } catch (err) {
        throw translateDriveError(err, label);
      }
    },
  };
}

/** The platform fetch, bound late so tests' HTTP servers on loopback are reached the same way as Google. */
const nativeFetch: typeof fetch = (input, init) => fetch(input, init);
