import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { terminalProgress } from '../../src/report/progress.js';

function fakeStream(tty: boolean) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { isTTY: boolean; columns: number };
  stream.isTTY = tty;
  stream.columns = 100;
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
}

describe('terminalProgress', () => {
  it('prints one line per completed phase when the stream is not a terminal, timed from the start', () => {
    const { stream, text } = fakeStream(false);
    const sink = terminalProgress({ stream });
    sink.update('sec', { phase: 'train', done: 1, total: 3 });
    sink.update('sec', { phase: 'train', done: 3, total: 3, metrics: { loss: 0.123456, epoch: 2 } });
    sink.update('sec', { phase: 'epoch', done: 2, total: 2 });
    sink.log('hello');
    sink.stop();
    const lines = text().replace(/\n$/, '').split('\n');
    expect(lines[0]).toMatch(/^ {2}sec train: 3\/3 in \d+\.\d s {2}loss 0\.1235 {2}epoch 2$/);
    expect(lines[1]).toBe('  sec epoch: 2/2  '); // a single event: nothing to time
    expect(lines[2]).toBe('hello');
  });

  it('draws bars on a terminal and removes each when its phase completes', async () => {
    const { stream, text } = fakeStream(true);
    const sink = terminalProgress({ stream });
    sink.update('alpha', { phase: 'work', done: 1, total: 4 });
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 2; i <= 4; i++) sink.update('alpha', { phase: 'work', done: i, total: 4 });
    await new Promise((r) => setTimeout(r, 300));
    sink.stop();
    expect(text()).toContain('alpha work');
    expect(text()).toMatch(/alpha work: 4\/4 in/);
  });
});
