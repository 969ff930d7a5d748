# Oracle: d2l's init and one train_ch6 SGD step in PyTorch, for test/parity.test.ts.
# usage: step.py MODEL SIDE SEED WORKDIR   (reads WORKDIR/batch.st and WORKDIR/weights.st)
# MODEL: alexnet, lenet, a zoo net (d2l_nets.ZOO: vgg11, nin, googlenet, resnet18, densenet) or a small
# net of d2l's blocks (d2l_nets.SMALL: resnet, inception, densenet).
import sys
import torch
from torch import nn
import st, d2l_nets

model, side, seed, work = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.set_num_threads(1)

def build():
    if model == 'alexnet':
        s = side
        for k, stv, p in [(11, 4, 1), (3, 2, 0), (5, 1, 2), (3, 2, 0), (3, 1, 1), (3, 2, 0)]:
            s = (s + 2 * p - k) // stv + 1
        return d2l_nets.alexnet(256 * s * s)
    if model in d2l_nets.SMALL:
        return d2l_nets.SMALL[model]()
    if model in d2l_nets.ZOO:
        return d2l_nets.ZOO[model](side)
    return d2l_nets.lenet()

# 1. d2l's initialisation from the same seed (compared bitwise with nanscope's).
torch.manual_seed(seed)
net = build()
net.apply(d2l_nets.init_weights)
st.save(f'{work}/init_torch.st', net.state_dict())

# 2. One step from nanscope's weights on nanscope's batch, dropout drawn after manual_seed(seed).
net.load_state_dict(st.load(f'{work}/weights.st'))
b = st.load(f'{work}/batch.st')
X, y = b['X'], b['y']
opt = torch.optim.SGD(net.parameters(), lr=0.01)
torch.manual_seed(seed)
net.train()
opt.zero_grad()
loss = nn.CrossEntropyLoss()(net(X), y)
loss.backward()
out = {f'grad.{k}': p.grad for k, p in net.named_parameters()}
out['loss'] = loss.detach().reshape(1)
opt.step()
out.update({f'after.{k}': v for k, v in net.state_dict().items()})
st.save(f'{work}/out_torch.st', out)
