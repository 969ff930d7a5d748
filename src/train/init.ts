// Weight initialisation by name. 'xavier' is d2l's init_weights (xavier_uniform_ on every
// Conv2d/Linear weight, biases keep PyTorch's default); 'default' keeps PyTorch's layer init.
// Which modules: those with their own weight of two or more dimensions (a matrix or a
// kernel), which is d2l's Conv2d/Linear in any network, and not BN's per-channel scale.
import { init as I, type Module } from '../nn/index.js';

export function applyInit(net: Module, how: string): void {
  if (how === 'default') return;
  net.apply((m) => {
    const weight = m.ownWeight();
    if (!weight || weight.ndim < 2) return;
    if (how === 'xavier') I.xavierUniform_(weight);
    else if (how === 'kaiming') I.kaimingNormal_(weight, { nonlinearity: 'relu' });
    else if (how.startsWith('normal:')) I.normal_(weight, 0, Number(how.slice(7)));
    else throw new Error(`unknown init '${how}'`);
  });
}
