// Weight initialisation by name. 'xavier' is d2l's init_weights (xavier_uniform_ on every
// Conv2d/Linear weight, biases keep PyTorch's default); 'default' keeps PyTorch's layer init.
import { Conv2d, Linear, init as I, type Module } from '../nn/index.js';

export function applyInit(net: Module, how: string): void {
  if (how === 'default') return;
  net.apply((m) => {
    if (!(m instanceof Conv2d || m instanceof Linear)) return;
    if (how === 'xavier') I.xavierUniform_(m.weight);
    else if (how === 'kaiming') I.kaimingNormal_(m.weight, { nonlinearity: 'relu' });
    else if (how.startsWith('normal:')) I.normal_(m.weight, 0, Number(how.slice(7)));
    else throw new Error(`unknown init '${how}'`);
  });
}
