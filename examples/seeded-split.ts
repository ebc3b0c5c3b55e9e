/**
 * A seeded, reproducible train/test split with transferkit's Rng, and what a bad argument looks like.
 * Run: npx tsx examples/seeded-split.ts
 */
import { InvalidArgumentError, Rng } from 'transferkit';

const rng = new Rng(42);
const order = rng.permutation(10);
const [train, test] = [order.slice(0, 8), order.slice(8)];
console.log('train', train, 'test', test);

try {
  rng.sample(order, 11);
} catch (e) {
  if (e instanceof InvalidArgumentError) console.log(e.message);
}
