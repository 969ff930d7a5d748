# Oracle: register_full_backward_hook's grad_input[0] and grad_output[0] norms for every module
# of a small net of d2l's blocks, for the probes' gradient taps (test/parity.test.ts).
# usage: taps.py NET WORKDIR   (reads WORKDIR/weights.st and WORKDIR/batch.st, writes taps.json)
# d2l's Residual adds into bn2's output in place (Y += X), which PyTorch forbids on a hooked
# output; there a tensor hook gives grad_output, and grad_input is conv2's grad_output (bn2's
# only input comes from conv2 alone).
import json, sys
import torch
from torch import nn
import st, d2l_nets

name, work = sys.argv[1], sys.argv[2]
torch.set_num_threads(1)
net = d2l_nets.SMALL[name]()
net.load_state_dict(st.load(f'{work}/weights.st'))
b = st.load(f'{work}/batch.st')
rec = {}
norm = lambda t: None if t is None else t.norm().item()
inplace_out = {p for p, m in net.named_modules() if isinstance(m, d2l_nets.Residual) for p in [f'{p}.bn2']}
for path, m in net.named_modules():
    if path == '':
        continue
    if path in inplace_out:
        def fwd(mod, inp, out, path=path):
            out.register_hook(lambda g: rec.__setitem__(path, [None, norm(g)]))
        m.register_forward_hook(fwd)
    else:
        m.register_full_backward_hook(lambda mod, gin, gout, path=path: rec.__setitem__(path, [norm(gin[0]), norm(gout[0])]))
net.train()
nn.CrossEntropyLoss()(net(b['X']), b['y']).backward()
# conv2's hook fires after bn2's tensor hook: fill bn2's grad_input now.
for p in inplace_out:
    rec[p][0] = rec[p[:-3] + 'conv2'][1]
json.dump(rec, open(f'{work}/taps.json', 'w'))
