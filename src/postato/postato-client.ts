/**
 * The typed Postato REST client (postato-api.md §3 and §16): one method per endpoint, responses parsed with zod,
 * answers mapped to PostatoError, a timeout per request and the retry policy of retry-policy.ts. A create is only
 * ever repeated with the same Idempotency-Key and the byte-identical body; the API key travels only in the
 * Authorization header and is scrubbed from anything built from a response or an exception.
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import type { Clock } from '../clock';
import { sleep as realSleep, systemClock } from '../clock';
import type { Logger } from '../logger';
import { silentLogger } from '../logger';
import { PostatoError, errorFromException, errorFromResponse, failedBeforeSending } from './postato-errors';
import {
  accountListSchema,
  mediaSchema,
  postPageSchema,
  uploadUrlSchema,
  postSchema,
  readPlainPost,
  workspaceListSchema,
  type Account,
  type Media,
  type Post,
  type UploadTarget,
  type PostPage,
  type Workspace,
} from './postato-schemas';
import { sharedPostatoAgent } from './postato-agent';
import { redactText } from './redact';
import { DEFAULT_RETRY_POLICY, nextDelayMs, parseRetryAfter, type RetryPolicy } from './retry-policy';
import type { CreatePostBody, UpdatePostBody } from '../post-body';
import { canonicalJson } from '../canonical-json';

export type { RetryPolicy } from './retry-policy';
export type { Account, Media, Post, PostPage, UploadTarget, Workspace } from './postato-schemas';

/** How to build a client. */
export interface PostatoClientOptions {
  /** e.g. https://api.postato.com.br (without /v1). */
  baseUrl: string;
  apiKey: string;
  /** Per-request timeout, body included (default 15 s). */
  timeoutMs?: number;
  /** The keep-alive pool to send through (the service's own, sized and closed by it); default: a shared one. */
  dispatcher?: Dispatcher;
  retry?: Partial<RetryPolicy>;
  logger?: Logger;
  clock?: Clock;
  userAgent?: string;
  /** Test seam: how to wait between attempts (default: a real, abortable sleep). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Test seam: the jitter source in [0, 1). */
  random?: () => number;
}

/** Per-call overrides. */
export interface CallOptions {
  retry?: Partial<RetryPolicy>;
  /** Aborts the call (and any wait between attempts); the abort reason is thrown as is. */
  signal?: AbortSignal;
}

/** Filters of the post list (§16). */
export interface PostFilter {
  status?: string;
  platform?: string;
  postType?: string;
  accountId?: string;
  page?: number;
  pageSize?: number;
}

/** Default hard cap of listAllPosts: 50 pages of 100 posts. */
export const DEFAULT_MAX_PAGES = 50;

/** Bodies are serialised once in canonical form, so every attempt of a request sends identical bytes. */
export { canonicalJson };

interface RequestSpec<T> {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  /** Already serialised, so every attempt sends the same bytes. */
  body?: string;
  headers?: Record<string, string>;
  /** Absent when the body is not read (DELETE answers `{success:true}`). */
  schema?: z.ZodType<T>;
  /** A zod-free reading of the common answer; undefined hands the body to `schema`. */
  plain?: (json: unknown) => T | undefined;
}

interface Answer<T> {
  data: T;
  status: number;
  headers: IncomingHttpHeaders;
}

/**
 * The abort source of one call: undici takes an EventEmitter as well as an AbortSignal, and this one costs far less
 * to make than an AbortController (an EventTarget that is also made transferable). It fires on the call's deadline
 * or when the caller's signal aborts.
 */
class CallAbort extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  timedOut = false;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

/** The Postato REST client. */
export class PostatoClient {
  /** e.g. `https://api.postato.com.br`: the pool's key. */
  private readonly origin: string;
  /** The base URL's path (usually empty), prefixed to every request path. */
  private readonly basePath: string;
  private readonly dispatcher: Dispatcher;
  /** Headers every request carries, built once. */
  private readonly baseHeaders: Record<string, string>;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly policy: RetryPolicy;
  private readonly parentLogger: Logger;
  private childLogger?: Logger;
  private readonly clock: Clock;
  private readonly userAgent: string;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(opts: PostatoClientOptions) {
    if (!opts.apiKey)
      throw new PostatoError('unauthorized', 'No Postato API key was given.', {
        userMessage: 'Enter the Postato API key in Settings.',
      });
    const base = new URL(opts.baseUrl);
    this.origin = base.origin;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.dispatcher = opts.dispatcher ?? sharedPostatoAgent();
    this.apiKey = opts.apiKey;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
    this.parentLogger = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
    this.userAgent = opts.userAgent ?? 'postato-sheets/0.1';
    this.baseHeaders = {
      authorization: `Bearer ${this.apiKey}`,
      accept: 'application/json',
      'user-agent': this.userAgent,
    };
    this.sleep = opts.sleep ?? realSleep;
    this.random = opts.random ?? Math.random;
  }

  /** GET /v1/workspaces: every workspace the key can reach. */
  async listWorkspaces(o?: CallOptions): Promise<Workspace[]> {
    return (await this.send({ method: 'GET', path: '/v1/workspaces', schema: workspaceListSchema }, o)).data;
  }

  /** GET /v1/workspaces/{ws}/accounts; null when the endpoint answers 404 ("account check unavailable", §16). */
  async listAccounts(workspaceId: string, o?: CallOptions): Promise<Account[] | null> {
    try {
      return (await this.send({ method: 'GET', path: `${ws(workspaceId)}/accounts`, schema: accountListSchema }, o))
        .data;
    } catch (err) {
      if (err instanceof PostatoError && err.code === 'not_found') return null;
      throw err;
    }
  }

  /**
   * POST /v1/workspaces/{ws}/posts. The body is serialised once (canonical key order) and every retry sends those
   * bytes under the same key; `replayed` is true when Postato answered from its idempotency store.
   */
  async createPost(
    workspaceId: string,
    body: CreatePostBody,
    idempotencyKey: string,
    o?: CallOptions & {
      /** `canonicalJson(body)` when the caller holds it already (a replay's stored bytes): sent as is. */
      bodyText?: string;
    },
  ): Promise<{ post: Post; replayed: boolean }> {
    if (!idempotencyKey || !idempotencyKey.trim())
      throw new PostatoError('invalid_request', 'createPost needs an Idempotency-Key', {
        userMessage: 'Internal error: the post had no idempotency key.',
      });
    const answer = await this.send(
      {
        method: 'POST',
        path: `${ws(workspaceId)}/posts`,
        body: o?.bodyText ?? canonicalJson(body),
        headers: { 'Idempotency-Key': idempotencyKey },
        schema: postSchema,
        plain: readPlainPost,
      },
      o,
    );
    return {
      post: answer.data,
      replayed: headerOf(answer.headers, 'idempotent-replayed')?.trim().toLowerCase() === 'true',
    };
  }

  /** POST /v1/workspaces/{ws}/media/upload-url: a presigned URL to PUT one file's bytes to (§3.7). */
  async createUploadUrl(
    workspaceId: string,
    file: { mimeType: string; filename?: string; sizeBytes?: number },
    o?: CallOptions,
  ): Promise<UploadTarget> {
    const body = canonicalJson(file);
    return (
      await this.send({ method: 'POST', path: `${ws(workspaceId)}/media/upload-url`, body, schema: uploadUrlSchema }, o)
    ).data;
  }

  /** POST /v1/workspaces/{ws}/media/{id}/confirm: pending → uploaded (confirming again answers the same media). */
  async confirmMedia(workspaceId: string, mediaId: string, o?: CallOptions): Promise<Media> {
    return (
      await this.send(
        { method: 'POST', path: `${ws(workspaceId)}/media/${seg(mediaId)}/confirm`, body: '{}', schema: mediaSchema },
        o,
      )
    ).data;
  }

  /** GET /v1/workspaces/{ws}/posts/{id}. */
  async getPost(workspaceId: string, postId: string, o?: CallOptions): Promise<Post> {
    return (
      await this.send(
        { method: 'GET', path: `${ws(workspaceId)}/posts/${seg(postId)}`, schema: postSchema, plain: readPlainPost },
        o,
      )
    ).data;
  }

  /** GET /v1/workspaces/{ws}/posts: one page, newest first. */
  async listPosts(workspaceId: string, filter: PostFilter = {}, o?: CallOptions): Promise<PostPage> {
    const query = {
      status: filter.status,
      platform: filter.platform,
      postType: filter.postType,
      accountId: filter.accountId,
      page: filter.page,
      pageSize: filter.pageSize,
    };
    return (await this.send({ method: 'GET', path: `${ws(workspaceId)}/posts`, query, schema: postPageSchema }, o))
      .data;
  }

  /**
   * Walks every page of the post list (100 per page) and returns the posts, each once. Throws `too_many_pages`
   * rather than returning a silently truncated list when more than `maxPages` pages exist.
   */
  async listAllPosts(
    workspaceId: string,
    filter: Omit<PostFilter, 'page'> = {},
    o: CallOptions & { maxPages?: number } = {},
  ): Promise<Post[]> {
    const maxPages = o.maxPages ?? DEFAULT_MAX_PAGES;
    const pageSize = filter.pageSize ?? 100;
    const seen = new Map<string, Post>();
    for (let page = 1; ; page++) {
      if (page > maxPages)
        throw new PostatoError('too_many_pages', `Postato listed more than ${maxPages} pages of posts`, {
          userMessage: `This workspace has more posts than can be checked at once (over ${maxPages * pageSize}); narrow the filter.`,
        });
      const res = await this.listPosts(workspaceId, { ...filter, page, pageSize }, o);
      // Posts created during the walk shift later pages (newest first), so one post may show up twice.
      for (const p of res.items) if (!seen.has(p.id)) seen.set(p.id, p);
      const lastPage =
        res.totalPages !== undefined ? page >= res.totalPages : res.items.length < (res.pageSize ?? pageSize);
      if (lastPage || res.items.length === 0) return [...seen.values()];
    }
  }

  /** PATCH /v1/workspaces/{ws}/posts/{id} (only draft and scheduled posts; otherwise `not_editable`). */
  async updatePost(workspaceId: string, postId: string, patch: UpdatePostBody, o?: CallOptions): Promise<Post> {
    return (
      await this.send(
        {
          method: 'PATCH',
          path: `${ws(workspaceId)}/posts/${seg(postId)}`,
          body: canonicalJson(patch),
          schema: postSchema,
          plain: readPlainPost,
        },
        o,
      )
    ).data;
  }

  /**
   * DELETE /v1/workspaces/{ws}/posts/{id}. Postato answers 404 both for a missing post and for one no longer
   * cancellable, so a 404 that may follow our own earlier DELETE is checked by reading the post back: already
   * `cancelled` counts as success. That is the case when a retry of this call follows an attempt whose answer was
   * lost, or always with `alreadyCancelledIsDone` (the caller's earlier attempts may have cancelled it).
   */
  async cancelPost(
    workspaceId: string,
    postId: string,
    o?: CallOptions & { alreadyCancelledIsDone?: boolean },
  ): Promise<void> {
    const path = `${ws(workspaceId)}/posts/${seg(postId)}`;
    try {
      await this.send({ method: 'DELETE', path }, o);
    } catch (err) {
      if (
        err instanceof PostatoError &&
        err.code === 'not_found' &&
        (err.outcomeUnknown || o?.alreadyCancelledIsDone)
      ) {
        const post = await this.getPost(workspaceId, postId, o).catch(() => undefined);
        if (post?.status === 'cancelled') return;
      }
      throw err;
    }
  }

  /** The client's logger, made on its first line: a pino child costs more than a call that logs nothing. */
  private get logger(): Logger {
    return (this.childLogger ??= this.parentLogger.child({ component: 'postato-client' }));
  }

  /** Runs one request with timeouts and retries; returns the parsed 2xx answer or throws a PostatoError. */
  private async send<T>(spec: RequestSpec<T>, o: CallOptions = {}): Promise<Answer<T>> {
    const policy: RetryPolicy = { ...this.policy, ...o.retry };
    const started = this.clock.now();
    let earlierUnknown = false;
    const idempotencyKey = spec.headers?.['Idempotency-Key'];
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(spec, o.signal);
      } catch (err) {
        if (!(err instanceof PostatoError)) throw err;
        // A write whose earlier attempt may have landed stays "unknown" whatever a later attempt says.
        if (spec.method !== 'GET' && earlierUnknown) err.outcomeUnknown = true;
        earlierUnknown ||= err.outcomeUnknown;
        const delay = nextDelayMs(err, attempt, this.clock.now() - started, policy, this.random);
        if (delay === undefined) {
          err.attempts = attempt;
          if (err.retryable)
            this.logger.warn(
              { method: spec.method, path: spec.path, idempotencyKey, attempt, code: err.code, status: err.httpStatus },
              'postato call gave up',
            );
          throw err;
        }
        this.logger.info(
          {
            method: spec.method,
            path: spec.path,
            idempotencyKey,
            attempt,
            code: err.code,
            status: err.httpStatus,
            delayMs: delay,
          },
          'postato call will be retried',
        );
        await this.sleep(delay, o.signal);
      }
    }
  }

  /** One HTTP exchange, body read included, under one timeout; the caller's signal aborts it. */
  private async attempt<T>(spec: RequestSpec<T>, signal?: AbortSignal): Promise<Answer<T>> {
    signal?.throwIfAborted();
    let headers = this.baseHeaders;
    if (spec.headers !== undefined || spec.body !== undefined) {
      headers = { ...headers, ...spec.headers };
      if (spec.body !== undefined) headers['content-type'] = 'application/json';
    }
    const isWrite = spec.method !== 'GET';
    const t0 = this.clock.now();
    // One deadline for the whole exchange, body included, on a native timer (undici's own timeouts tick in ~0.5 s
    // steps, too coarse for short timeouts).
    const abort = new CallAbort();
    const timer = setTimeout(() => {
      abort.timedOut = true;
      abort.abort(new Error('postato request timed out'));
    }, this.timeoutMs);
    const onCallerAbort = () => abort.abort(signal?.reason);
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    let status = 0;
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await this.dispatcher.request({
        origin: this.origin,
        path: this.basePath + spec.path + queryString(spec.query),
        method: spec.method,
        headers,
        body: spec.body,
        signal: abort,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (abort.timedOut)
        throw errorFromException({
          method: spec.method,
          path: spec.path,
          kind: 'timeout',
          timeoutMs: this.timeoutMs,
          mayHaveApplied: isWrite,
          apiKey: this.apiKey,
        });
      throw errorFromException({
        method: spec.method,
        path: spec.path,
        kind: 'network',
        error: err,
        // An answer whose body broke off mid-way means the request was processed; a refused connection was not.
        mayHaveApplied: isWrite && (status !== 0 || !failedBeforeSending(err)),
        apiKey: this.apiKey,
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCallerAbort);
    }
    if (this.parentLogger.isLevelEnabled('debug'))
      this.logger.debug({ method: spec.method, path: spec.path, status, ms: this.clock.now() - t0 }, 'postato call');
    if (status >= 300 && status < 400) {
      // Redirects are not followed (fetch used redirect: 'error'): whatever a redirect means, a write's outcome is
      // unknown, so it stays in doubt and is replayed with the same key instead of ending as a definite failure.
      throw errorFromException({
        method: spec.method,
        path: spec.path,
        kind: 'network',
        error: new Error(`Postato answered ${status} (a redirect, not followed)`),
        mayHaveApplied: isWrite,
        apiKey: this.apiKey,
      });
    }
    if (status < 200 || status >= 300) {
      const retryAfterMs = parseRetryAfter(headerOf(res.headers, 'retry-after'), this.clock.now());
      throw errorFromResponse({
        method: spec.method,
        path: spec.path,
        status,
        bodyText: text,
        retryAfterMs,
        apiKey: this.apiKey,
      });
    }
    if (!spec.schema) return { data: undefined as never, status, headers: res.headers };
    return { data: this.parse(spec, spec.schema, text, status), status, headers: res.headers };
  }

  private parse<T>(spec: RequestSpec<T>, schema: z.ZodType<T>, text: string, status: number): T {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const plain = spec.plain?.(json);
    if (plain !== undefined) return plain;
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new PostatoError(
      'unexpected_response',
      redactText(
        `Postato answered ${status} to ${spec.method} ${spec.path} with a body this client cannot read: ${issues}`,
        this.apiKey,
      ),
      {
        httpStatus: status,
        // A write that got a 2xx was applied, even if its answer is unreadable: the caller must not send new content.
        outcomeUnknown: spec.method !== 'GET',
        userMessage:
          'Postato gave an answer this service does not understand; the post may have been created. Contact support.',
      },
    );
  }
}

/** `?a=1&b=2` from the defined, non-empty query values; '' when there are none. */
function queryString(query: Record<string, string | number | undefined> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `?${qs}` : '';
}

/** One response header as a string (a repeated header's values joined as HTTP would fold them). */
function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function seg(id: string): string {
  return encodeURIComponent(id);
}

function ws(workspaceId: string): string {
  return `/v1/workspaces/${seg(workspaceId)}`;
}
