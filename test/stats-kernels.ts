// Prints the probe kernel's stats of a fixed set of tensors as JSON: test/torch.test.ts runs it
// with and without NANSCOPE_STATS_PORTABLE, so the AVX2 build and the portable one (which this
// CPU would otherwise never run) are checked against each other.
import * as torch from '../src/torch/index.js';
import { SATURATION_BAND } from '../src/diagnose/index.js';

torch.manualSeed(3);
const band = SATURATION_BAND.sigmoid;
const out = torch.tidy(() => {
  // Lengths around the 16-float step and the 4096-float block, one past a 64k chunk; ReLU zeros,
  // saturated sigmoids, exact zeros in a gradient-like tensor, and one with a NaN (the exact path).
  const xs = [7, 16, 17, 4095, 4096, 4113, 65_537, 300_001].map((n) => torch.randn([n]).mul(4));
  const relu = xs.map((x) => x.relu());
  const sig = xs.map((x) => x.sigmoid());
  const bad = torch.randn([5000]);
  bad.view(-1).narrow(0, 123, 1).fill_(NaN);
  return [
    ...relu.map((x) => torch.stats(x)),
    ...sig.map((x) => torch.stats(x, band)),
    ...sig.map((x) => torch.stats(x)),
    torch.stats(bad, band),
  ];
});
process.stdout.write(JSON.stringify(out));
