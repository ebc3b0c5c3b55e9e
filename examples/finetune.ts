/**
 * Transfer learning on your own folder of images in one call (docs/finetune.md): a tiny folder of generated PNGs
 * (three colour classes, one sub-folder each), a small CNN as the backbone, `finetuneFolder` (features once, a new
 * head, then the top stage fine-tuned end to end), saved, loaded back and applied to new files.
 * Run: npx tsx examples/finetune.ts   (a few seconds; with a real photo folder use loadPretrained('mobilenet_v2'))
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Rng, zeilerFergusCnn } from 'transferkit';
import {
  finetuneFolder,
  initBackend,
  loadFinetuned,
  predictFiles,
  saveFinetuned,
  writePng,
} from 'transferkit/node';

await initBackend();
// A folder of images, one sub-folder per class: photos/red/*.png, photos/green/*.png, photos/blue/*.png.
const dir = await mkdtemp(path.join(os.tmpdir(), 'transferkit-finetune-'));
const rng = new Rng(0);
const classes = ['red', 'green', 'blue'];
for (const [c, name] of classes.entries()) {
  for (let i = 0; i < 12; i++) {
    const data = new Uint8ClampedArray(20 * 20 * 4).map((_, k) =>
      k % 4 === 3 ? 255 : (k % 4 === c ? 170 : 70) + rng.int(100) - 50,
    );
    await writePng(path.join(dir, 'photos', name, `${i}.png`), { width: 20, height: 20, data });
  }
}

// The backbone: any layers model that takes images (here a small, untrained CNN; a pretrained one does better).
const backbone = zeilerFergusCnn({
  inputShape: [24, 24, 3],
  filters: [8, 16],
  hidden: [32],
  numClasses: 10,
  seed: 1,
});
const { result, valFiles } = await finetuneFolder(
  backbone,
  { images: path.join(dir, 'photos') }, // 20% of each class held out (seeded)
  {
    featureLayer: 'fc1', // the head reads fc1's 32 features
    unfreeze: 1, // then fine-tune fc1 end to end with the head
    epochs: 40,
    learningRate: 0.03,
    seed: 0,
    cacheDir: path.join(dir, 'cache'), // features of each chunk are kept: a second run skips extraction
    onEpoch: (e) =>
      e.epoch % 10 === 0 && console.log(`${e.stage} epoch ${e.epoch}: val acc ${e.valAccuracy}`),
  },
);
console.log(
  `val accuracy ${(100 * result.metrics.valAccuracy).toFixed(1)}% (head only ${(100 * result.metrics.headValAccuracy).toFixed(1)}%)`,
);
// model.json + weights.bin, classes.json, metrics.json, confusion.svg, summary.html (written, then renamed).
await saveFinetuned(result, path.join(dir, 'out'), valFiles);
result.model.dispose();
backbone.dispose();

const loaded = await loadFinetuned(path.join(dir, 'out'));
const preds = await predictFiles(loaded, [path.join(dir, 'photos', 'green', '0.png')], { topK: 2 });
console.log(preds[0].top); // [{ className: 'green', probability: ... }, ...]
loaded.model.dispose();
