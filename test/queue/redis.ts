/**
 * A throw-away redis-server for the queue tests: a free loopback port, no RDB snapshots, AOF only when asked, its
 * own folder; stopped by the test. Missing redis-server fails loudly under CI=true (.ci/run installs it).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Whether `redis-server` is on the PATH. */
export function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A running redis-server. */
export interface TestRedis {
  url: string;
  port: number;
  /** Kills it (SIGKILL by default: the harshest restart) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and folder (the AOF, when on, is replayed). */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
}

function waitExit(p: ChildProcess, ms: number): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      resolve();
    }, ms);
    p.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** Starts redis-server on 127.0.0.1 at a free port; `aof` turns on the append-only file with fsync on every write. */
export async function startRedis(options: { aof?: boolean } = {}): Promise<TestRedis> {
  if (!hasRedisServer()) {
    throw new Error(
      'redis-server is not installed: the queue tests need it (apt-get install -y redis-server; .ci/run does this)',
    );
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tk-redis-'));
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const launch = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
    args.push('--appendonly', options.aof ? 'yes' : 'no');
    if (options.aof) args.push('--appendfsync', 'always');
    const p = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`redis-server did not start in 10 s:\n${log}`)), 10_000);
      const onData = (b: Buffer) => {
        log += b.toString();
        if (/Ready to accept connections/.test(log)) {
          clearTimeout(t);
          resolve();
        }
      };
      p.stdout?.on('data', onData);
      p.stderr?.on('data', onData);
      p.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`redis-server exited with ${code}:\n${log}`));
      });
    });
    p.removeAllListeners('exit');
  };
  await launch();
  const stop = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (proc) {
      const p = proc;
      proc = undefined;
      p.kill(signal);
      await waitExit(p, 5000);
    }
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    restart: launch,
    async dispose() {
      await stop('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
