// Sole-consumer chains (Module.soleConsumerChains): inside a Residual, conv1's output goes to bn1
// only and conv2's to bn2 only, so the probes tap bn1's and bn2's input gradients on those
// tensors themselves, without an alias; the block input, which also feeds the skip, keeps its
// alias. The numbers must equal the all-alias taps exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';
import { F, Tensor } from '../src/torch/index.js';
import { Sequential, Residual, AdaptiveAvgPool2d, Flatten, Linear, Conv2d, type Module } from '../src/nn/index.js';
import { Probes, FIELD, NF } from '../src/diagnose/index.js';

/** A Residual that claims no chains: every child input is tapped through an alias. */
class AliasedResidual extends Residual {
  override soleConsumerChains(): readonly (readonly Module[])[] { return []; }
}

function probe(block: (i: number, o: number, s?: boolean) => Residual): { values: Float32Array; aliases: number; names: string[] } {
  return torch.tidy(() => {
    torch.manualSeed(11);
    const net = new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new Sequential(block(4, 4), block(4, 8, true)),
      new AdaptiveAvgPool2d([1, 1]), new Flatten(), new Linear(8, 3));
    torch.manualSeed(12);
    const X = torch.rand([4, 1, 8, 8]);
    const y = torch.tensor(Int32Array.from([0, 1, 2, 0]), [4], { dtype: 'int64' });
    const probes = new Probes(net, X.shape);
    const real = Tensor.prototype.alias;
    let aliases = 0;
    Tensor.prototype.alias = function (this: Tensor) { aliases++; return real.call(this); };
    try {
      probes.begin(true);
      F.crossEntropy(net.call(X), y).backward();
    } finally {
      Tensor.prototype.alias = real;
    }
    const values = probes.end(X).values;
    probes.remove();
    const names = probes.layers.map((l) => l.name);
    net.dispose();
    return { values, aliases, names };
  });
}

test('probes: a Residual\'s conv1 -> bn1 and conv2 -> bn2 inputs are tapped without an alias, with the same numbers', () => {
  const mk = (C: typeof Residual) => (i: number, o: number, s = false) => new C(i, o, s ? { use1x1conv: true, strides: 2 } : {});
  const chained = probe(mk(Residual));
  const aliased = probe(mk(AliasedResidual));
  assert.deepEqual(chained.names, aliased.names);
  // Per block, bn1 and bn2 no longer need one: 2 blocks x 2.
  assert.equal(aliased.aliases - chained.aliases, 4, `aliases: ${chained.aliases} chained vs ${aliased.aliases}`);
  for (let i = 0; i < chained.names.length; i++) {
    for (const f of ['grad_in_norm', 'grad_out_norm', 'act_mean', 'grad_w_norm'] as const) {
      const a = chained.values[i * NF + FIELD[f]], b = aliased.values[i * NF + FIELD[f]];
      assert.ok(Object.is(a, b), `${chained.names[i]} ${f}: ${a} vs ${b}`);
    }
  }
  const bn1 = chained.names.indexOf('1.0.bn1');
  assert.ok(chained.values[bn1 * NF + FIELD.grad_in_norm] > 0, 'bn1 has an input gradient');
});
