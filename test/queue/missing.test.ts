/** Without the optional peers, transferkit/queue says which package to install (before touching Redis). */
import { describe, expect, it, vi } from 'vitest';

vi.mock('bullmq', () => {
  throw new Error('Cannot find package bullmq');
});

describe('transferkit/queue without bullmq', () => {
  it('throws MissingDependencyError naming bullmq', async () => {
    const { MissingDependencyError } = await import('../../src/index.js');
    const { queueStatus } = await import('../../src/queue.js');
    const { hasRedisServer, startRedis } = await import('./redis.js');
    if (!hasRedisServer() && process.env.CI !== 'true') return; // the queue tests warn about this
    const redis = await startRedis();
    try {
      const e = await queueStatus({ connection: redis.url }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(MissingDependencyError);
      expect((e as Error).message).toMatch(/npm i bullmq/);
    } finally {
      await redis.dispose();
    }
  });
});
