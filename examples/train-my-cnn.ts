// Train your own CNN (my-cnn.ts) through nanscope as a library: d2l's train_ch6 loop, every
// layer watched on every step, a NaN located, stopped at and explained, all stored.
//   node --import tsx examples/train-my-cnn.ts          (after `npm run build`)
//   node --import tsx --conditions=nanscope-source examples/train-my-cnn.ts   (from the sources)
// Then `nanscope serve` shows the run; `nanscope runs` lists it.
import { Trainer, openStore, defaultConfig, validate, loadFashionMnist } from 'nanscope';
import model from './my-cnn.js';

const data = await loadFashionMnist({ limitTrain: 6000, limitTest: 1000 });
// 'code': the network comes from this script (defaults: batch 256, 28x28, lr 0.1).
const config = validate({ ...defaultConfig('code'), epochs: 2, lr: 0.1 });
const store = openStore('runs');
const run = store.createRun({ name: 'my-cnn (library)', config });
const trainer = new Trainer(config, { store, runId: run.id, data, model });
try {
  const r = await trainer.run(); // prints d2l's lines: epoch ..., loss ..., train acc ..., test acc ...
  console.log(`verdict: ${r.verdict.run}`);
  if (r.report) console.log(r.report.explanation.en);
} finally {
  trainer.dispose();
  store.close();
}
