/**
 * A fake of the part of Google Drive API v3 that reading a user's media needs, as a real HTTP server on loopback:
 * `GET /drive/v3/files/{id}?fields=…` (metadata, partial responses) and `GET /drive/v3/files/{id}?alt=media` (bytes,
 * with Range). Bearer tokens map to users; a file is visible to its owner, its readers and anyone-with-link, and
 * answers 404 or 403 like Drive otherwise. Counters record every download per file. Point googleapis at it with
 * `google.drive({ version: 'v3', auth, rootUrl: fake.url + '/' })`.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../clock';
import { SandboxWaits } from './sandbox-waits';
import { applyFields, parseFields, topLevelFields } from './drive-fake-fields';

/** A file as a test describes it. */
export interface DriveFakeFileInput {
  /** Default: a new Drive-like id. */
  id?: string;
  name: string;
  mimeType: string;
  bytes: Buffer | string;
  /** The user (e.g. an email) who owns it; the owner can always read it. */
  ownerId: string;
  /** Users the file is shared with (reader). */
  readers?: string[];
  /** "Anyone with the link can view". */
  anyoneWithLink?: boolean;
  /**
   * Users who can see the file but whose token carries no grant for it under the drive.file scope (the file was
   * never picked with the Picker): Drive answers as `notPickedAnswer` says until `pick` grants it.
   */
  appNotAuthorizedFor?: string[];
  /** The owner disabled download for viewers: readers get 403 cannotDownloadFile on alt=media. */
  downloadRestricted?: boolean;
  /** videoMediaMetadata (Drive fills it in for videos once processed). */
  video?: { durationMillis: number; width?: number; height?: number };
  /** imageMediaMetadata. */
  image?: { width: number; height: number };
  /** Default: the fake's clock at creation. */
  modifiedTime?: string;
}

/** One request the fake answered. */
export interface DriveFakeRequest {
  method: string;
  path: string;
  fileId: string | null;
  userId: string | null;
  kind: 'metadata' | 'media' | 'other';
  status: number;
  range?: string;
  at: number;
}

/** Per-file counters. */
export interface DriveFakeFileStats {
  /** alt=media responses that carried bytes (200 or 206). */
  downloads: number;
  /** Of those, full downloads (200). */
  fullDownloads: number;
  bytesServed: number;
  metadataReads: number;
  /** 401/403/404 answers about this file. */
  denied: number;
}

/** Faults a test can inject. */
export interface DriveFakeFaults {
  /** Real-time ms added to every request. */
  latencyMs: number;
  /** The next N alt=media requests answer `failStatus` (default 503 backendError). */
  failNextDownloads: number;
  failStatus: 429 | 500 | 503;
  /** The next N alt=media requests send half the bytes (with the full Content-Length) and drop the connection. */
  truncateNextDownloads: number;
}

/**
 * How Drive answers a drive.file token for a file the user can see but never picked: usually `404 notFound` (to the
 * app the file does not exist), sometimes `403 appNotAuthorizedToFile` ("The user has not granted the app … access to
 * the file"). Both happen; a client must read either as "pick it".
 */
export type NotPickedAnswer = 'notFound' | 'appNotAuthorizedToFile';

/** Options of `startDriveFake`. */
export interface DriveFakeOptions {
  port?: number;
  /** Default `appNotAuthorizedToFile`. */
  notPickedAnswer?: NotPickedAnswer;
  /** Bearer token → user id. */
  tokens?: Record<string, string>;
  files?: DriveFakeFileInput[];
  faults?: Partial<DriveFakeFaults>;
  clock?: Clock;
}

/** A running Drive fake. */
export interface DriveFake {
  /** Base URL; googleapis' `rootUrl` is this plus '/'. */
  url: string;
  /** Adds a file and returns its id. */
  addFile(file: DriveFakeFileInput): string;
  /** Replaces content or name: the version goes up and modifiedTime moves, as in Drive. */
  updateFile(fileId: string, change: { bytes?: Buffer | string; name?: string; mimeType?: string }): void;
  /** Shares a file with a user as reader. */
  share(fileId: string, userId: string): void;
  /** The user picked the file with the Picker: the app's drive.file grant now covers it for them. */
  pick(fileId: string, userId: string): void;
  /**
   * Takes a user's access away; link sharing goes off too, or the link would still let them in. Without a user, every
   * non-owner loses access.
   */
  revoke(fileId: string, userId?: string): void;
  /** Deletes a file (everyone then gets 404). */
  deleteFile(fileId: string): void;
  /** Maps a token to a user (or issues a new token for the user when none is given) and returns the token. */
  setToken(userId: string, token?: string): string;
  /** Makes a token invalid: calls with it get 401. */
  revokeToken(token: string): void;
  update(settings: {
    tokens?: Record<string, string>;
    faults?: Partial<DriveFakeFaults>;
    notPickedAnswer?: NotPickedAnswer;
  }): void;
  /** The file's metadata as Drive's `fields=*` would show it, or undefined. */
  metadata(fileId: string): Record<string, unknown> | undefined;
  /** Counters of one file. */
  statsOf(fileId: string): DriveFakeFileStats;
  /** Counters of every file that was asked about. */
  stats(): Record<string, DriveFakeFileStats>;
  requestLog: DriveFakeRequest[];
  /** Forgets counters and the request log (files stay). */
  resetCounters(): void;
  close(): Promise<void>;
}

interface StoredFile {
  id: string;
  name: string;
  mimeType: string;
  bytes: Buffer;
  md5: string;
  sha256: string;
  ownerId: string;
  readers: Set<string>;
  anyoneWithLink: boolean;
  appNotAuthorizedFor: Set<string>;
  downloadRestricted: boolean;
  video?: DriveFakeFileInput['video'];
  image?: DriveFakeFileInput['image'];
  version: number;
  createdTime: string;
  modifiedTime: string;
}

/** Top-level fields of a Drive v3 File that the fake knows. */
const FILE_FIELDS = new Set([
  'kind',
  'id',
  'name',
  'mimeType',
  'size',
  'md5Checksum',
  'sha256Checksum',
  'version',
  'createdTime',
  'modifiedTime',
  'trashed',
  'owners',
  'capabilities',
  'videoMediaMetadata',
  'imageMediaMetadata',
  'fileExtension',
  'originalFilename',
  '*',
]);

class DriveError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly extra: { location?: string; locationType?: string; status?: string } = {},
  ) {
    super(message);
  }
}

function newFileId(): string {
  return `1${randomBytes(24).toString('base64url')}`;
}

function toBuffer(bytes: Buffer | string): Buffer {
  return typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
}

function checksums(bytes: Buffer): { md5: string; sha256: string } {
  return {
    md5: createHash('md5').update(bytes).digest('hex'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/** Drive v3's view of a file (all fields); numbers Drive sends as int64 strings are strings here too. */
function resource(f: StoredFile, userId: string): Record<string, unknown> {
  const binary = !f.mimeType.startsWith('application/vnd.google-apps.');
  const ext = /\.([A-Za-z0-9]+)$/.exec(f.name)?.[1];
  return {
    kind: 'drive#file',
    id: f.id,
    name: f.name,
    mimeType: f.mimeType,
    ...(binary
      ? { size: String(f.bytes.length), md5Checksum: f.md5, sha256Checksum: f.sha256, originalFilename: f.name }
      : {}),
    ...(binary && ext ? { fileExtension: ext } : {}),
    version: String(f.version),
    createdTime: f.createdTime,
    modifiedTime: f.modifiedTime,
    trashed: false,
    owners: [{ kind: 'drive#user', emailAddress: f.ownerId, me: f.ownerId === userId }],
    capabilities: { canDownload: binary && (!f.downloadRestricted || f.ownerId === userId) },
    ...(f.video
      ? {
          videoMediaMetadata: {
            durationMillis: String(f.video.durationMillis),
            ...(f.video.width !== undefined ? { width: f.video.width } : {}),
            ...(f.video.height !== undefined ? { height: f.video.height } : {}),
          },
        }
      : {}),
    ...(f.image ? { imageMediaMetadata: { width: f.image.width, height: f.image.height } } : {}),
  };
}

/** Parses a single `bytes=` range against a size: [start, end] inclusive, 'full' when absent or multi-range. */
function parseRange(header: string | undefined, size: number): [number, number] | 'full' | 'unsatisfiable' {
  if (!header) return 'full';
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return header.includes(',') ? 'full' : 'unsatisfiable';
  const [, a, b] = m;
  if (a === '' && b === '') return 'unsatisfiable';
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return [start, end];
}

/** Starts the Drive fake on 127.0.0.1 and resolves once it listens. */
export async function startDriveFake(opts: DriveFakeOptions = {}): Promise<DriveFake> {
  const clock = opts.clock ?? systemClock;
  const files = new Map<string, StoredFile>();
  const tokens = new Map<string, string>(Object.entries(opts.tokens ?? {}));
  let faults: DriveFakeFaults = {
    latencyMs: 0,
    failNextDownloads: 0,
    failStatus: 503,
    truncateNextDownloads: 0,
    ...opts.faults,
  };
  const counters = new Map<string, DriveFakeFileStats>();
  const requestLog: DriveFakeRequest[] = [];
  let notPickedAnswer: NotPickedAnswer = opts.notPickedAnswer ?? 'appNotAuthorizedToFile';
  const closing = new AbortController();
  const waits = new SandboxWaits();
  const iso = () => new Date(clock.now()).toISOString();

  const statsOf = (id: string): DriveFakeFileStats => {
    let s = counters.get(id);
    if (!s) counters.set(id, (s = { downloads: 0, fullDownloads: 0, bytesServed: 0, metadataReads: 0, denied: 0 }));
    return s;
  };

  const mustGet = (id: string): StoredFile => {
    const f = files.get(id);
    if (!f) throw new Error(`Drive fake: no file ${id}`);
    return f;
  };

  const addFile = (input: DriveFakeFileInput): string => {
    const id = input.id ?? newFileId();
    const bytes = toBuffer(input.bytes);
    const now = input.modifiedTime ?? iso();
    files.set(id, {
      id,
      name: input.name,
      mimeType: input.mimeType,
      bytes,
      ...checksums(bytes),
      ownerId: input.ownerId,
      readers: new Set(input.readers ?? []),
      anyoneWithLink: input.anyoneWithLink ?? false,
      appNotAuthorizedFor: new Set(input.appNotAuthorizedFor ?? []),
      downloadRestricted: input.downloadRestricted ?? false,
      ...(input.video ? { video: input.video } : {}),
      ...(input.image ? { image: input.image } : {}),
      version: 1,
      createdTime: now,
      modifiedTime: now,
    });
    return id;
  };
  for (const f of opts.files ?? []) addFile(f);

  const notFound = (fileId: string) =>
    new DriveError(404, 'notFound', `File not found: ${fileId}.`, { location: 'fileId', locationType: 'parameter' });

  /** Who may see the file: 404 when the caller cannot (Drive does not reveal it); the app's grant as configured. */
  const authorize = (fileId: string, userId: string): StoredFile => {
    const f = files.get(fileId);
    const visible = f && (f.ownerId === userId || f.readers.has(userId) || f.anyoneWithLink);
    if (!f || !visible) throw notFound(fileId);
    if (f.appNotAuthorizedFor.has(userId)) {
      if (notPickedAnswer === 'notFound') throw notFound(fileId);
      throw new DriveError(
        403,
        'appNotAuthorizedToFile',
        `The user has not granted the app read access to the file ${fileId}.`,
        { location: 'fileId', locationType: 'parameter' },
      );
    }
    return f;
  };

  const authenticate = (req: http.IncomingMessage): string => {
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header.trim()) : null;
    if (!m) {
      throw new DriveError(
        401,
        'required',
        'Request is missing required authentication credential. Expected OAuth 2 access token.',
        {
          location: 'Authorization',
          locationType: 'header',
          status: 'UNAUTHENTICATED',
        },
      );
    }
    const userId = tokens.get(m[1] as string);
    if (!userId) {
      throw new DriveError(401, 'authError', 'Invalid Credentials', {
        location: 'Authorization',
        locationType: 'header',
        status: 'UNAUTHENTICATED',
      });
    }
    return userId;
  };

  const sendDriveError = (res: http.ServerResponse, err: DriveError): void => {
    const body = JSON.stringify({
      error: {
        code: err.code,
        message: err.message,
        errors: [
          {
            message: err.message,
            domain: err.code === 429 || err.reason.endsWith('RateLimitExceeded') ? 'usageLimits' : 'global',
            reason: err.reason,
            ...(err.extra.location ? { location: err.extra.location, locationType: err.extra.locationType } : {}),
          },
        ],
        ...(err.extra.status ? { status: err.extra.status } : {}),
      },
    });
    res.writeHead(err.code, {
      'Content-Type': 'application/json; charset=UTF-8',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, entry: DriveFakeRequest) => {
    const url = new URL(req.url ?? '/', 'http://drive');
    if (faults.latencyMs > 0) await waits.wait(faults.latencyMs);
    const m = /^\/drive\/v3\/files\/([^/]+)$/.exec(url.pathname);
    if (!m) throw new DriveError(404, 'notFound', `No route ${req.method} ${url.pathname} in the Drive fake.`);
    const fileId = decodeURIComponent(m[1] as string);
    entry.fileId = fileId;
    if (req.method !== 'GET') {
      throw new DriveError(405, 'methodNotAllowed', `The Drive fake serves only GET on ${url.pathname}.`);
    }
    const alt = url.searchParams.get('alt') ?? 'json';
    entry.kind = alt === 'media' ? 'media' : 'metadata';
    const userId = authenticate(req);
    entry.userId = userId;
    const f = authorize(fileId, userId);
    if (alt === 'media') return sendMedia(req, res, f, userId, entry);
    if (alt !== 'json') throw new DriveError(400, 'invalidParameter', `Invalid value '${alt}' for parameter alt.`);
    const fieldsParam = url.searchParams.get('fields');
    const view = resource(f, userId);
    let body: Record<string, unknown>;
    if (fieldsParam === null) {
      body = { kind: view.kind, id: view.id, name: view.name, mimeType: view.mimeType };
    } else {
      let tree;
      try {
        tree = parseFields(fieldsParam);
      } catch (err) {
        throw new DriveError(400, 'invalidParameter', (err as Error).message, {
          location: 'fields',
          locationType: 'parameter',
        });
      }
      const unknown = topLevelFields(tree).filter((k) => !FILE_FIELDS.has(k));
      if (unknown.length) {
        throw new DriveError(400, 'invalidParameter', `Invalid field selection ${unknown[0]}`, {
          location: 'fields',
          locationType: 'parameter',
        });
      }
      body = applyFields(view, tree);
    }
    statsOf(fileId).metadataReads += 1;
    const text = JSON.stringify(body);
    res.writeHead(200, {
      'Content-Type': 'application/json; charset=UTF-8',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
    entry.status = 200;
  };

  const sendMedia = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    f: StoredFile,
    userId: string,
    entry: DriveFakeRequest,
  ): void => {
    if (f.mimeType.startsWith('application/vnd.google-apps.')) {
      throw new DriveError(
        403,
        'fileNotDownloadable',
        'Only files with binary content can be downloaded. Use Export with Docs Editors files.',
        { location: 'alt', locationType: 'parameter' },
      );
    }
    if (f.downloadRestricted && f.ownerId !== userId) {
      throw new DriveError(
        403,
        'cannotDownloadFile',
        'The user does not have sufficient permissions to download this file.',
      );
    }
    if (faults.failNextDownloads > 0) {
      faults.failNextDownloads -= 1;
      const s = faults.failStatus;
      const reason = s === 429 ? 'rateLimitExceeded' : s === 500 ? 'internalError' : 'backendError';
      // Counted as neither a download nor a denial: a transient failure.
      throw new DriveError(s, reason, 'The service is temporarily unavailable (simulated).');
    }
    const range = typeof req.headers.range === 'string' ? req.headers.range : undefined;
    if (range) entry.range = range;
    const size = f.bytes.length;
    const parsed = parseRange(range, size);
    if (parsed === 'unsatisfiable') {
      res.writeHead(416, { 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
      res.end();
      entry.status = 416;
      return;
    }
    const [start, end] = parsed === 'full' ? [0, size - 1] : parsed;
    const chunk = f.bytes.subarray(start, end + 1);
    const headers: Record<string, string | number> = {
      'Content-Type': f.mimeType,
      'Content-Length': chunk.length,
      'Accept-Ranges': 'bytes',
    };
    if (parsed !== 'full') headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    const status = parsed === 'full' ? 200 : 206;
    entry.status = status;
    const stats = statsOf(f.id);
    if (faults.truncateNextDownloads > 0) {
      faults.truncateNextDownloads -= 1;
      res.writeHead(status, headers);
      res.write(chunk.subarray(0, Math.floor(chunk.length / 2)));
      // Drop the connection mid-body: the client sees fewer bytes than Content-Length.
      setImmediate(() => res.socket?.destroy());
      stats.bytesServed += Math.floor(chunk.length / 2);
      return;
    }
    stats.downloads += 1;
    if (status === 200) stats.fullDownloads += 1;
    stats.bytesServed += chunk.length;
    res.writeHead(status, headers);
    res.end(chunk);
  };

  const server = http.createServer((req, res) => {
    const entry: DriveFakeRequest = {
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0] as string,
      fileId: null,
      userId: null,
      kind: 'other',
      status: 0,
      at: clock.now(),
    };
    requestLog.push(entry);
    req.resume();
    handle(req, res, entry).catch((err: unknown) => {
      if (closing.signal.aborted) {
        res.socket?.destroy();
        return;
      }
      const driveErr =
        err instanceof DriveError
          ? err
          : new DriveError(500, 'internalError', 'The Drive fake failed on this request.');
      entry.status = driveErr.code;
      if (entry.fileId && [401, 403, 404].includes(driveErr.code)) statsOf(entry.fileId).denied += 1;
      sendDriveError(res, driveErr);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    addFile,
    updateFile(fileId, change) {
      const f = mustGet(fileId);
      if (change.bytes !== undefined) {
        f.bytes = toBuffer(change.bytes);
        Object.assign(f, checksums(f.bytes));
      }
      if (change.name !== undefined) f.name = change.name;
      if (change.mimeType !== undefined) f.mimeType = change.mimeType;
      f.version += 1;
      f.modifiedTime = iso();
    },
    share(fileId, userId) {
      mustGet(fileId).readers.add(userId);
    },
    pick(fileId, userId) {
      mustGet(fileId).appNotAuthorizedFor.delete(userId);
    },
    revoke(fileId, userId) {
      const f = mustGet(fileId);
      if (userId === undefined) {
        f.readers.clear();
        f.anyoneWithLink = false;
      } else {
        f.readers.delete(userId);
        if (f.anyoneWithLink && f.ownerId !== userId) f.anyoneWithLink = false;
      }
    },
    deleteFile(fileId) {
      files.delete(fileId);
    },
    setToken(userId, token) {
      const t = token ?? `ya29.fake-${randomBytes(16).toString('hex')}`;
      tokens.set(t, userId);
      return t;
    },
    revokeToken(token) {
      tokens.delete(token);
    },
    update(settings) {
      if (settings.tokens) {
        tokens.clear();
        for (const [t, u] of Object.entries(settings.tokens)) tokens.set(t, u);
      }
      if (settings.faults) faults = { ...faults, ...settings.faults };
      if (settings.notPickedAnswer) notPickedAnswer = settings.notPickedAnswer;
    },
    metadata(fileId) {
      const f = files.get(fileId);
      return f ? resource(f, f.ownerId) : undefined;
    },
    statsOf: (fileId) => ({ ...statsOf(fileId) }),
    stats: () => Object.fromEntries([...counters.entries()].map(([k, v]) => [k, { ...v }])),
    requestLog,
    resetCounters() {
      counters.clear();
      requestLog.length = 0;
    },
    async close() {
      closing.abort();
      waits.close(new Error('The Drive fake is closing.'));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
