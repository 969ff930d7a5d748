// d2l's blocks (Residual, Inception, DenseBlock, transition) and nested Sequentials: dotted
// paths and shapes. Their maths against PyTorch: test/parity.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';
import { AdaptiveAvgPool2d, Residual, Inception, DenseBlock, transitionBlock } from '../src/nn/index.js';
import { relErr } from './helpers.js';
import { smallResnet } from './nets.js';

test('nested Sequential: PyTorch dotted paths for modules and parameters', () => {
  const net = smallResnet();
  const paths = [...net.namedModules()].map(([p]) => p);
  assert.deepEqual(paths.slice(0, 9), ['', '0', '0.0', '0.1', '0.2', '1', '1.0', '1.0.conv1', '1.0.conv2']);
  assert.ok(paths.includes('1.1.conv3'));
  assert.ok(!paths.includes('1.0.conv3'), 'no 1x1 conv without use1x1conv');
  const keys = [...net.stateDict().keys()];
  assert.deepEqual(keys.slice(0, 4), ['0.0.weight', '0.0.bias', '0.1.weight', '0.1.bias']);
  assert.ok(keys.includes('1.1.bn2.running_var') && keys.includes('4.weight'));
  net.dispose();
});

test('block shapes: Residual halves with strides 2, Inception concatenates c1+c2+c3+c4, DenseBlock grows, transition halves', () => {
  torch.tidy(() => torch.noGrad(() => {
    const X = torch.rand([2, 3, 6, 6]);
    assert.deepEqual(new Residual(3, 3).eval().call(X).shape, [2, 3, 6, 6]);
    assert.deepEqual(new Residual(3, 6, { use1x1conv: true, strides: 2 }).eval().call(X).shape, [2, 6, 3, 3]);
    assert.deepEqual(new Inception(3, 64, [96, 128], [16, 32], 32).call(X).shape, [2, 256, 6, 6]);
    const blk = new DenseBlock(2, 3, 10);
    assert.equal(blk.outChannels, 23);
    assert.deepEqual(blk.eval().call(X).shape, [2, 23, 6, 6]);
    assert.deepEqual(transitionBlock(3, 10).eval().call(X).shape, [2, 10, 3, 3]);
    assert.deepEqual(new AdaptiveAvgPool2d([1, 1]).call(X).shape, [2, 3, 1, 1]);
    // Global average pooling is the mean over height and width.
    assert.ok(relErr(new AdaptiveAvgPool2d(1).call(X).reshape(2, 3), X.mean([2, 3])) < 1e-6);
  }));
});
