/**
 * The raw upload step of Postato's presigned media upload (postato-api.md §3.7): `PUT <uploadUrl>` with the file's
 * bytes streamed as the body, `Content-Type` equal to the declared MIME type and the exact Content-Length. The upload
 * URL carries a signature in its query, so it is never logged nor put in an error: errors name the path only.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { PostatoError, errorFromException, errorFromResponse } from './postato-errors';

/** One file to PUT. */
export interface MediaPut {
  uploadUrl: string;
  mimeType: string;
  sizeBytes: number;
  body: Readable;
  /** Abort when no byte moved for this long. */
  idleTimeoutMs: number;
}

/** PUTs the bytes; resolves on a 2xx, throws a PostatoError otherwise (upload-url problems keep Postato's code). */
export function putMediaBytes(put: MediaPut): Promise<void> {
  const url = new URL(put.uploadUrl);
  const path = url.pathname;
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      put.body.destroy();
      if (err) reject(err);
      else resolve();
    };
    const req = transport.request(url, {
      method: 'PUT',
      headers: { 'Content-Type': put.mimeType, 'Content-Length': String(put.sizeBytes) },
    });
    req.setTimeout(put.idleTimeoutMs, () => {
      req.destroy();
      done(
        errorFromException({
          method: 'PUT',
          path,
          kind: 'timeout',
          timeoutMs: put.idleTimeoutMs,
          mayHaveApplied: true,
          apiKey: '',
        }),
      );
    });
    req.on('error', (error) =>
      done(errorFromException({ method: 'PUT', path, kind: 'network', error, mayHaveApplied: true, apiKey: '' })),
    );
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.length < 64 && chunks.push(c));
      res.on('error', (error) =>
        done(errorFromException({ method: 'PUT', path, kind: 'network', error, mayHaveApplied: true, apiKey: '' })),
      );
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return done();
        const bodyText = Buffer.concat(chunks).toString('utf8').slice(0, 4000);
        done(errorFromResponse({ method: 'PUT', path, status, bodyText, apiKey: '' }));
      });
    });
    // A download that breaks off mid-way must not look like a complete upload: the request is torn down.
    put.body.on('error', (error) => {
      req.destroy();
      done(
        new PostatoError('network', `The file's download broke off while it was being uploaded to ${path}`, {
          userMessage: 'The file could not be read from Google Drive to the end; it will be tried again.',
          cause: error,
        }),
      );
    });
    put.body.pipe(req);
  });
}
