// The locator on nets of any shape (module trees from d2l's blocks): the first non-finite
// value is named by its pass, the exact aten op or autograd node, and the innermost layer's
// dotted path, in real execution order. Faults are planted in real nets on real libtorch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';
import { Module, Sequential, Conv2d, ReLU, Flatten, Linear, batchNorm, type Conv2d as ConvT, type BatchNorm2d } from '../src/nn/index.js';
import { locate } from '../src/diagnose/index.js';
import { smallResnet, smallInception } from './nets.js';

function moduleAt<M extends Module>(net: Module, path: string): M {
  const m = [...net.namedModules()].find(([p]) => p === path)?.[1];
  if (!m) throw new Error(`no module ${path}`);
  return m as M;
}

function batch(): { X: torch.Tensor; y: torch.Tensor } {
  torch.manualSeed(1);
  return { X: torch.keep(torch.rand([4, 1, 12, 12])), y: torch.keep(torch.tensor(Int32Array.from([1, 2, 3, 4]), [4], { dtype: 'int64' })) };
}

test('a NaN planted in one conv inside a residual block is located at that path, forward, as aten::convolution', () => {
  torch.manualSeed(0);
  const net = smallResnet();
  const { X, y } = batch();
  torch.noGrad(() => moduleAt<ConvT>(net, '1.1.conv2').weight.narrow(0, 3, 1).narrow(1, 2, 1).fill_(NaN));
  const o = locate(net, X, y);
  assert.ok(o, 'located');
  assert.equal(o.pass, 'forward');
  assert.equal(o.layer, '1.1.conv2');
  assert.equal(o.layerKind, 'Conv2d');
  assert.equal(o.tensor, 'weight');
  assert.equal(o.op, 'aten::convolution');
  assert.match(String(o.detail.opStack), /^aten::conv2d > aten::convolution/);
  net.dispose(); X.dispose(); y.dispose();
});

test("an Inf produced by a residual block's add (Y += X) is reported as aten::add_ at that block", () => {
  torch.manualSeed(0);
  const net = smallResnet();
  const { X, y } = batch();
  torch.noGrad(() => {
    // Block 0's BN outputs 1e38 everywhere (finite); residual 1.0 turns its convs' signal to
    // constants and its bn2 to 3e38, so only Y + X overflows.
    const bn0 = moduleAt<BatchNorm2d>(net, '0.1');
    bn0.weight.zero_(); bn0.bias.fill_(1e38);
    moduleAt<ConvT>(net, '1.0.conv1').weight.zero_();
    moduleAt<ConvT>(net, '1.0.conv2').weight.zero_();
    const bn2 = moduleAt<BatchNorm2d>(net, '1.0.bn2');
    bn2.weight.zero_(); bn2.bias.fill_(3e38);
  });
  const o = locate(net, X, y);
  assert.ok(o, 'located');
  assert.equal(o.pass, 'forward');
  assert.equal(o.layer, '1.0');
  assert.equal(o.layerKind, 'Residual');
  assert.equal(o.alias, 'residual1');
  assert.equal(o.op, 'aten::add_');
  assert.equal(o.tensor, 'output');
  assert.ok(o.counts.posInf > 0 && o.counts.nan === 0, JSON.stringify(o.counts));
  net.dispose(); X.dispose(); y.dispose();
});

/** A user-written layer calling d2l's from-scratch batch_norm with a sign slip in eps. */
class SlippedBatchNorm extends Module {
  readonly gamma: torch.Tensor;
  readonly beta: torch.Tensor;
  constructor(n: number) {
    super();
    this.gamma = this.registerParameter('gamma', torch.ones([1, n, 1, 1]))!;
    this.beta = this.registerParameter('beta', torch.zeros([1, n, 1, 1]))!;
    this.registerBuffer('moving_mean', torch.zeros([1, n, 1, 1]));
    this.registerBuffer('moving_var', torch.ones([1, n, 1, 1]));
  }
  forward(X: torch.Tensor): torch.Tensor {
    return batchNorm(X, this.gamma, this.beta, this.buffer('moving_mean'), this.buffer('moving_var'), -10, 0.9)[0];
  }
}

test('a NaN from aten::sqrt of a negative inside a user-written functional op is reported as that op', () => {
  torch.manualSeed(0);
  const net = new Sequential(new Conv2d(1, 4, 3), new SlippedBatchNorm(4), new ReLU(), new Flatten(), new Linear(4 * 10 * 10, 10));
  const { X, y } = batch();
  const o = locate(net, X, y);
  assert.ok(o, 'located');
  assert.equal(o.pass, 'forward');
  assert.equal(o.layer, '1');
  assert.equal(o.layerKind, 'SlippedBatchNorm');
  assert.equal(o.op, 'aten::sqrt');
  assert.equal(o.tensor, 'output');
  assert.ok(o.counts.nan > 0);
  net.dispose(); X.dispose(); y.dispose();
});

test('an Inf planted in the backward pass of one Inception branch is located in that branch', () => {
  torch.manualSeed(0);
  const net = smallInception();
  const { X, y } = batch();
  const branch = moduleAt<ConvT>(net, '1.0.p3_1');
  const h = branch.registerForwardHook((_m, _x, out) => { if (out.requiresGrad) torch.registerGradFault(out, 5, Infinity); });
  const o = locate(net, X, y);
  h.remove();
  assert.ok(o, 'located');
  assert.equal(o.pass, 'backward');
  assert.equal(o.layer, '1.0.p3_1');
  assert.equal(o.op, 'ConvolutionBackward0');
  assert.equal(o.detail.forwardOp, 'aten::convolution');
  assert.match(String(o.detail.cause), /arrived non-finite/);
  net.dispose(); X.dispose(); y.dispose();
});

test('a clean step of a nested net locates nothing', () => {
  torch.manualSeed(0);
  const net = smallInception();
  const { X, y } = batch();
  assert.equal(locate(net, X, y), null);
  net.dispose(); X.dispose(); y.dispose();
});
