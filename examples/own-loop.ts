// Your own training loop with nanscope's probes and locator, no Trainer: watch(net, shape) reads
// every layer on a step; locate(net, X, y) names where a step's first NaN/Inf appeared.
//   node --import tsx --conditions=nanscope-source examples/own-loop.ts
import { torch, nn, optim, watch, locate, loadFashionMnist, DataLoader } from 'nanscope';
import model from './my-cnn.js';

torch.manualSeed(0);
const net = model();
const opt = new optim.SGD(net.parameters(), { lr: 0.1 });
const data = await loadFashionMnist({ limitTrain: 1280, limitTest: 10 });
const loader = new DataLoader(data.train, { batchSize: 128, shuffle: true, seed: 0 });
const w = watch(net, [1, 1, 28, 28]);
for (let i = 0; i < loader.numBatches; i++) {
  const b = loader.batch(0, i);
  const stop = torch.tidy(() => {
    const X = torch.tensor(b.pixels, [b.size, 1, 28, 28]).float().div(255);
    const y = torch.tensor(b.labels, [b.size], { dtype: 'int64' });
    if (i === 5) torch.noGrad(() => net.parameters()[0].narrow(0, 0, 1).fill_(NaN)); // a planted fault
    w.begin();
    const loss = nn.crossEntropyLoss(net.call(X), y);
    opt.zeroGrad();
    if (!Number.isFinite(loss.item())) {
      w.abort();
      const report = locate(net, X, y, { step: i + 1 });
      console.log(report?.explanation.en);
      return true;
    }
    loss.backward();
    w.end(X);
    const applied = new Map<torch.Tensor, number>();
    opt.step(applied);
    const r = w.updated(applied); // each layer's |update| / |weight| too
    console.log(`step ${i + 1}: loss ${loss.item().toFixed(3)}, grad norm ${r.gradNorm.toFixed(3)}, ` +
      r.layers.map((l) => `${l.alias} |a|max ${l.values.act_max.toPrecision(3)}, update ${l.values.update_ratio.toPrecision(2)}`).join('; '));
    return false;
  });
  if (stop) break;
}
w.remove();
