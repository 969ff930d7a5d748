// nanscope vs PyTorch (Debian python3-torch 1.13, the same libtorch): d2l's init from the same
// seed, one train_ch6 SGD step of AlexNet, LeNet and small nets of d2l's blocks (residual,
// Inception, dense), and batch norm (built-in and d2l's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as torch from '../src/torch/index.js';
import { F } from '../src/torch/index.js';
import { SGD, init, BatchNorm2d, BatchNorm1d, BatchNorm, Conv2d, Linear, ReLU, Sequential, type Module } from '../src/nn/index.js';
import { alexnet, lenet, buildModel, ZOO, type ModelName } from '../src/models/index.js';
import { readFileSync } from 'node:fs';
import { Probes, FIELD, NF } from '../src/diagnose/index.js';
import { tmp, saveSt, loadSt, oracle, relErr } from './helpers.js';
import { SMALL_NETS, type SmallNet } from './nets.js';

function d2lInit(net: Module): void {
  net.apply((m) => { if (m instanceof Conv2d || m instanceof Linear) init.xavierUniform_(m.weight); });
}

/** A zoo net as `nanscope train --model NAME --resize SIDE` builds it (its d2l recipe's options). */
function zooNet(model: ModelName, side: number): Module {
  const r = ZOO[model].recipe;
  return buildModel({ model, resize: side, activation: r.activation, bn: 'none', ratio: r.ratio });
}

function stepParity(model: 'alexnet' | 'lenet' | SmallNet | Exclude<ModelName, 'alexnet' | 'lenet'>, side: number, batch: number): void {
  const work = tmp();
  const seed = 3;
  torch.tidy(() => {
    torch.manualSeed(seed);
    const net = model === 'alexnet' ? alexnet({ resize: side }) : model === 'lenet' ? lenet() : model in SMALL_NETS ? SMALL_NETS[model as SmallNet]() : zooNet(model as ModelName, side);
    d2lInit(net);
    saveSt(join(work, 'weights.st'), net.stateDict());
    torch.manualSeed(100);
    const X = torch.rand([batch, 1, side, side]);
    const y = torch.tensor(Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10), [batch], { dtype: 'int64' });
    saveSt(join(work, 'batch.st'), new Map([['X', X], ['y', y]]));
    oracle('step.py', [model, String(side), String(seed), work]);

    // d2l's xavier init from the same seed draws PyTorch's exact weights.
    const ref0 = loadSt(join(work, 'init_torch.st'));
    assert.deepEqual([...net.stateDict().keys()], [...ref0.keys()], 'state dict keys, in PyTorch\'s order');
    for (const [k, t] of net.stateDict()) assert.ok(t.equal(ref0.get(k)!), `init of ${k} differs from PyTorch`);

    const ref = loadSt(join(work, 'out_torch.st'));
    const opt = new SGD(net.parameters(), { lr: 0.01 });
    torch.manualSeed(seed); // same dropout masks as the oracle
    net.train();
    opt.zeroGrad();
    const loss = F.crossEntropy(net.call(X), y);
    loss.backward();
    assert.ok(relErr(loss, ref.get('loss')!) < 1e-5, `loss ${loss.item()} vs ${ref.get('loss')!.item()}`);
    for (const [k, p] of net.namedParameters()) {
      const e = relErr(p.grad!, ref.get(`grad.${k}`)!);
      assert.ok(e < 1e-5, `grad of ${k}: relative error ${e}`);
    }
    opt.step();
    // Parameters after the update, and BN's running statistics after the forward.
    for (const [k, t] of net.stateDict()) assert.ok(relErr(t, ref.get(`after.${k}`)!) < 1e-5, `after step ${k}`);
    net.dispose();
  });
}

test('AlexNet (96x96, batch 8): init, loss, every gradient and the SGD step equal PyTorch', () => stepParity('alexnet', 96, 8));
test('LeNet (28x28, batch 16): init, loss, every gradient and the SGD step equal PyTorch', () => stepParity('lenet', 28, 16));

test('small residual net (nested Sequential, Residual with and without 1x1 conv, batch 4): one step equals PyTorch', () => stepParity('resnet', 12, 4));
test('small Inception net (two Inception blocks, batch 4): one step equals PyTorch', () => stepParity('inception', 12, 4));
test('small DenseNet (DenseBlock, transition_block, batch 4): one step equals PyTorch', () => stepParity('densenet', 12, 4));

// The probes' gradient taps mean what register_full_backward_hook means: a layer's output
// gradient is the whole gradient of its output; its input gradient is only what flows back
// through that layer. In a residual block the block's input feeds conv1 and the skip, so
// conv1's input gradient is not the block's; in Inception one input feeds four branches.
function tapParity(name: SmallNet): void {
  const work = tmp();
  torch.tidy(() => {
    torch.manualSeed(7);
    const net = SMALL_NETS[name]();
    torch.manualSeed(8);
    const X = torch.rand([4, 1, 12, 12]);
    const y = torch.tensor(Int32Array.from([0, 5, 2, 9]), [4], { dtype: 'int64' });
    saveSt(join(work, 'weights.st'), net.stateDict());
    saveSt(join(work, 'batch.st'), new Map([['X', X], ['y', y]]));
    oracle('taps.py', [name, work]);
    const ref = JSON.parse(readFileSync(join(work, 'taps.json'), 'utf8')) as Record<string, [number | null, number]>;
    const probes = new Probes(net, X.shape);
    net.train();
    probes.begin(true);
    F.crossEntropy(net.call(X), y).backward();
    const v = probes.end(X).values;
    probes.remove();
    assert.deepEqual(probes.layers.map((l) => l.name).sort(), Object.keys(ref).filter((k) => k !== '1.0.net' && k !== '1.net').sort(),
      'every module the forward ran is a layer');
    let gins = 0;
    for (const l of probes.layers) {
      const [gin, gout] = ref[l.name];
      const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
      const gotOut = v[l.index * NF + FIELD.grad_out_norm];
      assert.ok(rel(gotOut, gout) < 1e-4, `${l.name} grad_output norm ${gotOut} vs PyTorch ${gout}`);
      const gotIn = v[l.index * NF + FIELD.grad_in_norm];
      if (gin === null) { assert.ok(Number.isNaN(gotIn), `${l.name}: no input gradient in PyTorch, got ${gotIn}`); continue; }
      assert.ok(rel(gotIn, gin) < 1e-4, `${l.name} grad_input norm ${gotIn} vs PyTorch ${gin}`);
      gins++;
    }
    assert.ok(gins >= probes.layers.length - 3, `input gradients compared: ${gins}`);
    net.dispose();
  });
}

test('probe gradient taps equal register_full_backward_hook on a residual net (one input, two consumers)', () => tapParity('resnet'));
test('probe gradient taps equal register_full_backward_hook on an Inception net (one input, four branches)', () => tapParity('inception'));

// Inside a plain Sequential a child's output goes to the next child only, so the probes tap the
// next child's input gradient on that tensor itself, without an alias. A forward hook of the
// user's that also consumes the output (an auxiliary loss on an intermediate activation) breaks
// that: the next layer's input gradient must still be only what flows back through it.
test('a layer\'s input gradient stays its own when a user hook also consumes the previous layer\'s output', () => {
  torch.tidy(() => {
    torch.manualSeed(3);
    const fc1 = new Linear(6, 5);
    const net = new Sequential(fc1, new ReLU(), new Linear(5, 3));
    const X = torch.randn([8, 6]);
    const y = torch.tensor(Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1]), [8], { dtype: 'int64' });
    const probes = new Probes(net, X.shape);
    const relu = probes.layers.find((l) => l.name === '1')!;
    const fc1Row = probes.layers.find((l) => l.name === '0')!;
    const step = (aux: boolean) => {
      let extra: torch.Tensor | null = null;
      const h = aux ? fc1.registerForwardHook((_m, _x, o) => { extra = o.square().sum().mul(3); }) : null;
      probes.begin(true);
      let loss = F.crossEntropy(net.call(X), y);
      if (extra) loss = loss.add(extra);
      for (const p of net.parameters()) p.grad = null;
      loss.backward();
      const v = probes.end(X).values;
      h?.remove();
      return { reluIn: v[relu.index * NF + FIELD.grad_in_norm], fc1Out: v[fc1Row.index * NF + FIELD.grad_out_norm] };
    };
    const plain = step(false);
    const withAux = step(true);
    probes.remove();
    assert.ok(Math.abs(plain.reluIn - plain.fc1Out) <= 1e-6 * plain.fc1Out, 'without the hook, fc1\'s output gradient is ReLU\'s input gradient');
    assert.ok(withAux.fc1Out > 2 * plain.fc1Out, `the auxiliary loss adds to fc1's output gradient (${withAux.fc1Out} vs ${plain.fc1Out})`);
    assert.ok(Math.abs(withAux.reluIn - plain.reluIn) <= 1e-5 * plain.reluIn, `ReLU's input gradient ${withAux.reluIn} is only its own (${plain.reluIn})`);
    net.dispose();
  });
});
// d2l's modern CNNs as `--model` builds them, at small inputs so the test stays fast (the maths
// of every layer is the same at 224 or 96; the sizes only have to leave each pooling an output).
test('VGG-11, d2l\'s ratio 4 (32x32, batch 4): init, loss, every gradient and the SGD step equal PyTorch', () => stepParity('vgg11', 32, 4));
test('NiN (68x68, batch 4): init, loss, every gradient and the SGD step equal PyTorch', () => stepParity('nin', 68, 4));
test('GoogLeNet (32x32, batch 4): init, loss, every gradient and the SGD step equal PyTorch', () => stepParity('googlenet', 32, 4));
test('ResNet-18 (32x32, batch 4): init, loss, every gradient, BN statistics and the SGD step equal PyTorch', () => stepParity('resnet18', 32, 4));
test('DenseNet (32x32, batch 4): init, loss, every gradient, BN statistics and the SGD step equal PyTorch', () => stepParity('densenet', 32, 4));

test('batch norm: built-in and d2l from-scratch vs PyTorch BatchNorm2d/1d, train and eval', () => {
  const work = tmp();
  torch.tidy(() => {
    torch.manualSeed(5);
    const X4 = torch.randn([6, 3, 5, 5]).mul(3).add(1);
    const X2 = torch.randn([10, 4]).mul(2).sub(1);
    saveSt(join(work, 'bn_in.st'), new Map([['X4', X4], ['X2', X2]]));
    oracle('bn.py', [work]);
    const ref = loadSt(join(work, 'bn_torch.st'));
    const cases: [string, torch.Tensor, () => Module, 2 | 4][] = [
      ['X4', X4, () => new BatchNorm2d(3), 4], ['X2', X2, () => new BatchNorm1d(4), 2]];
    for (const [key, X, builtin, dims] of cases) {
      const n = dims === 4 ? X.shape[0] * X.shape[2] * X.shape[3] : X.shape[0];
      for (const make of [builtin, () => new BatchNorm(X.shape[1], dims)]) {
        const m = make();
        const x = X.clone().requiresGrad_(true);
        m.train();
        const Y = m.call(x);
        const w = torch.arange(Y.numel(), undefined, 1, { dtype: 'float32' }).reshape(...Y.shape);
        Y.mul(torch.tensor(Float32Array.from(w.toFloat32Array(), Math.sin), Y.shape)).sum().backward();
        assert.ok(relErr(Y, ref.get(`${key}.train`)!) < 1e-5, `${m.kind} ${key} train output`);
        assert.ok(relErr(x.grad!, ref.get(`${key}.grad`)!) < 1e-4, `${m.kind} ${key} input gradient`);
        const sd = m.stateDict();
        const rm = sd.get('running_mean') ?? sd.get('moving_mean')!;
        const rv = sd.get('running_var') ?? sd.get('moving_var')!;
        assert.ok(relErr(rm.reshape(-1), ref.get(`${key}.running_mean`)!) < 1e-5, `${m.kind} running mean`);
        // d2l's moving variance uses the biased batch variance; PyTorch's running_var the
        // unbiased one. Undo Bessel's factor to compare.
        const torchRv = ref.get(`${key}.running_var`)!;
        const expected = m instanceof BatchNorm ? torchRv.sub(0.9).mul((n - 1) / n).add(0.9) : torchRv;
        assert.ok(relErr(rv.reshape(-1), expected) < 1e-5, `${m.kind} running var`);
        if (m instanceof BatchNorm) torch.noGrad(() => rv.copy_(torchRv.reshape(...rv.shape)));
        m.eval();
        const Ye = torch.noGrad(() => m.call(X));
        assert.ok(relErr(Ye, ref.get(`${key}.eval`)!) < 1e-5, `${m.kind} ${key} eval output`);
        m.dispose();
      }
    }
  });
});
