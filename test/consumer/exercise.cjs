// Uses every transferkit primitive once on tiny data. Shared by the CommonJS consumer (consumer.cjs, which passes
// `require('transferkit')`) and the browser bundle (consumer-browser.ts, which passes the ESM import), so both
// module formats of the packed tarball run the same checks. Returns a summary line; throws on any failure.
module.exports = async function exercise(tf, tk, label) {
  const check = (ok, what) => {
    if (!ok) throw new Error(`${label}: consumer check failed: ${what}`);
  };
  const start = tf.memory().numTensors;
  const x = tf.randomUniform([12, 28, 28, 1], 0, 1, 'float32', 1);
  const labels = Array.from({ length: 12 }, (_, i) => i % 4);
  const model = tk.zeilerFergusCnn({
    filters: [4, 8],
    kernelSizes: [3, 3],
    hidden: [16],
    numClasses: 4,
    seed: 1,
  });

  const dn = new tk.Deconvnet(model);
  const proj = dn.project(x, { layer: 'conv2', channels: [0, 1], strategy: 'guided' });
  check(proj.shape.join() === '12,2,28,28,1', `Deconvnet.project shape ${proj.shape}`);
  dn.dispose();

  const extractor = new tk.FeatureExtractor(model, { taps: ['conv1', 'fc1'], pool: 'avg', normalize: 'l2' });
  const [f1, f2] = extractor.extract(x);
  check(
    f1.shape.join() === '12,4' && f2.shape.join() === '12,16',
    `FeatureExtractor shapes ${f1.shape} ${f2.shape}`,
  );
  const svm = new tk.LinearSvm({ numClasses: 4 });
  await svm.fit(f2, labels);
  check((await svm.predict(f2)).length === 12, 'LinearSvm.predict');
  svm.dispose();
  extractor.dispose();

  const transfer = new tk.LayerTransfer(model, {
    copy: { name: 'conv1' },
    head: { kind: 'replace', numClasses: 5 },
  });
  const out = transfer.model.predict(x);
  check(out.shape.join() === '12,5', `LayerTransfer head shape ${out.shape}`);
  transfer.dispose();

  const grid = new tk.PatchSampler({ scales: 4, overlap: 0.5 }).grid({ height: 64, width: 64 });
  check(grid.count > 10, `PatchSampler grid of ${grid.count}`);

  const loss = new tk.DistillationLoss({ temperature: 4, alpha: 0.5 });
  const teacherLogits = tf.randomNormal([12, 4], 0, 1, 'float32', 2);
  const studentLogits = model.predict(x);
  const hard = tf.tensor1d(labels, 'int32');
  const value = loss.compute(studentLogits, teacherLogits, hard);
  check(Number.isFinite((await value.data())[0]), 'DistillationLoss.compute');

  const probs = tf.softmax(teacherLogits);
  const clusters = tk.clusterClasses(await probs.data(), 4, { k: 2, seed: 1 });
  const ensemble = await tk.SpecialistEnsemble.train(model, x, labels, { clusters, training: { epochs: 1 } });
  const q = await ensemble.predictProba(x);
  check(q.shape.join() === '12,4', `SpecialistEnsemble.predictProba shape ${q.shape}`);
  ensemble.dispose();

  let typed = false;
  try {
    new tk.Rng(1).int(0);
  } catch (e) {
    typed = e instanceof tk.InvalidArgumentError;
  }
  check(typed, 'a typed InvalidArgumentError');
  tf.dispose([x, proj, f1, f2, out, teacherLogits, studentLogits, hard, value, probs, q]);
  model.dispose();
  check(tf.memory().numTensors === start, `tensors left: ${tf.memory().numTensors - start}`);
  return `consumer (${label}, ${tf.getBackend()}): every primitive ok`;
};
