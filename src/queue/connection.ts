/**
 * The queue's connection to Redis: URL parsing, a fast reachability check with a typed error naming the URL, and
 * the optional peers `bullmq` and `ioredis` loaded on demand (a missing one is a `MissingDependencyError`).
 *
 * @module
 */

import type { Queue } from 'bullmq';
import { InvalidArgumentError, MissingDependencyError, TransferkitError } from '../index.js';

/**
 * How long to wait for Redis to answer, ms, by default. A refused connection fails at once; this bounds a silent
 * host, and is generous because a loaded machine can take seconds to answer.
 */
export const CONNECT_TIMEOUT_MS = 10_000;

/** The default queue name. */
export const DEFAULT_QUEUE = 'transferkit';

/**
 * Redis could not be reached (refused, timed out, bad address). Raised before any job is read or written.
 *
 * @example
 * ```ts
 * try { await runWorker({ connection: 'redis://127.0.0.1:6379' }); }
 * catch (e) { if (e instanceof QueueConnectionError) console.error('no Redis at', e.url); }
 * ```
 */
export class QueueConnectionError extends TransferkitError {
  /** The Redis URL that could not be reached. */
  readonly url: string;
  constructor(url: string, reason: string) {
    super(`Cannot reach Redis at ${url}: ${reason}.`, 'QUEUE_UNREACHABLE');
    this.url = url;
  }
}

/** The `bullmq` module. */
export type Bull = typeof import('bullmq');
type IORedis = { Redis: typeof import('ioredis').Redis };

/** Loads `bullmq`, or throws `MissingDependencyError`. */
export async function loadBull(): Promise<Bull> {
  try {
    return await import('bullmq');
  } catch {
    throw new MissingDependencyError('bullmq', 'for transferkit/queue (with ioredis)');
  }
}

async function loadIORedis(): Promise<IORedis> {
  try {
    const m = await import('ioredis');
    return { Redis: m.Redis };
  } catch {
    throw new MissingDependencyError('ioredis', 'for transferkit/queue (with bullmq)');
  }
}

/** ioredis connection options from a `redis://[user:password@]host:port[/db]` URL. */
export function connectionOptions(fn: string, url: string) {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidArgumentError(fn, 'connection', "a Redis URL 'redis://host:port'", url);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new InvalidArgumentError(fn, 'connection', "a Redis URL 'redis://host:port'", url);
  }
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * Checks that Redis answers at `url` within `timeoutMs` (one connection, no retries, then closed).
 *
 * @throws {@link QueueConnectionError} naming the URL when it does not; {@link index!InvalidArgumentError |
 * InvalidArgumentError} for a malformed URL; {@link index!MissingDependencyError | MissingDependencyError} without
 * `ioredis`
 * @example
 * ```ts
 * await pingRedis('redis://127.0.0.1:6379');
 * ```
 */
export async function pingRedis(url: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  const opts = connectionOptions('pingRedis', url);
  const { Redis } = await loadIORedis();
  const r = new Redis({
    ...opts,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  r.on('error', () => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      (async () => {
        await r.connect();
        await r.ping();
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    throw new QueueConnectionError(url, e instanceof Error ? e.message || e.name : String(e));
  } finally {
    clearTimeout(timer);
    r.disconnect();
  }
}

/** Where the queue lives: a Redis URL and a queue name. */
export interface QueueTarget {
  /** Redis URL, e.g. `redis://127.0.0.1:6379`. */
  connection: string;
  /** Queue name (BullMQ key prefix `bull:<queue>`). @default 'transferkit' */
  queue?: string;
  /** How long to wait for Redis to answer before failing with {@link QueueConnectionError}, ms. @default 10000 */
  connectTimeoutMs?: number;
}

/** Checks that Redis answers, then opens the queue (the caller closes it). */
export async function openQueue(fn: string, target: QueueTarget): Promise<{ bull: Bull; queue: Queue }> {
  const opts = connectionOptions(fn, target.connection);
  await pingRedis(target.connection, target.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
  const bull = await loadBull();
  const queue = new bull.Queue(target.queue ?? DEFAULT_QUEUE, { connection: opts });
  queue.on('error', () => {});
  return { bull, queue };
}
