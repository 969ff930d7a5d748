// act_sat_frac's count comes from the fused native stats kernel (native/src/probe.cc): the
// count of elements outside the band equals a per-element count, on the vectorised path, the
// exact (non-finite) path and the generic (float64) path; without a band it counts nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';
import { stats } from '../src/torch/stats.js';
import { SATURATION_BAND, Probes, FIELD, NF } from '../src/diagnose/index.js';
import { Tanh } from '../src/nn/index.js';
import { lenet } from '../src/models/index.js';
import { defaultConfig, validate } from '../src/train/config.js';

function count(x: Float32Array | Float64Array, lo: number, hi: number): number {
  let n = 0;
  for (const v of x) if (Number.isFinite(v) && (v <= Math.fround(lo) || v >= Math.fround(hi))) n++;
  return n;
}

test('saturation count: kernel equals a per-element count on every path', () => {
  torch.manualSeed(0);
  const { lo, hi } = SATURATION_BAND.sigmoid;
  torch.tidy(() => {
    // 300k elements: several 64k chunks and a ragged last block; sigmoid of N(0, 16) saturates often.
    const y = torch.randn([300_001]).mul(16).sigmoid();
    const data = y.toFloat32Array();
    const s = stats(y, SATURATION_BAND.sigmoid);
    assert.equal(s.sat, count(data, lo, hi));
    assert.ok(s.sat > 1000 && s.sat < 300_000, `a real mix: ${s.sat}`);
    assert.equal(stats(y).sat, 0, 'no band: nothing counted');
    // The exact path (a NaN and an Inf present): non-finite values are never counted.
    data[7] = NaN; data[99] = Infinity;
    const bad = torch.tensor(data, [data.length]);
    assert.equal(stats(bad, SATURATION_BAND.sigmoid).sat, count(data, lo, hi));
    // The generic path (float64).
    const t = torch.randn([5000]).mul(3).tanh();
    const d64 = t.to('float64');
    assert.equal(stats(d64, SATURATION_BAND.tanh).sat, count(t.toFloat32Array(), SATURATION_BAND.tanh.lo, SATURATION_BAND.tanh.hi));
  });
});

test('the band is where the slope falls to 1% of its peak', () => {
  const { lo, hi } = SATURATION_BAND.sigmoid;
  assert.ok(Math.abs(lo * (1 - lo) - 0.0025) < 1e-12 && Math.abs(hi * (1 - hi) - 0.0025) < 1e-12);
  const t = SATURATION_BAND.tanh.hi;
  assert.ok(Math.abs(1 - t * t - 0.01) < 1e-12 && SATURATION_BAND.tanh.lo === -t);
});

test('a zoo net with --activation tanh: Tanh layers, whose saturated fraction the probes record', () => {
  torch.manualSeed(0);
  const net = lenet({ activation: 'tanh' });
  const probes = new Probes(net, [1, 1, 28, 28]);
  const tanh = probes.layers.filter((l) => l.module instanceof Tanh);
  assert.equal(tanh.length, 4);
  torch.tidy(() => {
    probes.begin(false);
    // Inputs scaled up so the first tanh saturates: its fraction is measured, not NaN.
    net.call(torch.rand([8, 1, 28, 28]).mul(50));
    const p = probes.end(torch.zeros([1]));
    for (const l of tanh) assert.ok(Number.isFinite(p.values[l.index * NF + FIELD.act_sat_frac]), `${l.alias}: act_sat_frac`);
    assert.ok(p.values[tanh[0].index * NF + FIELD.act_sat_frac] > 0.5, 'the first tanh saturates');
  });
  probes.remove();
  assert.equal(validate({ ...defaultConfig('lenet'), activation: 'tanh' }).activation, 'tanh');
  assert.throws(() => validate({ ...defaultConfig('lenet'), activation: 'gelu' as 'tanh' }), /unknown --activation 'gelu' \(relu, sigmoid, tanh\)/);
});
