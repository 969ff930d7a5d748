# Oracle: d2l's from-scratch batch_norm vs nn.BatchNorm2d / nn.BatchNorm1d, train and eval.
# usage: bn.py WORKDIR   (reads WORKDIR/bn_in.st: X4 (N,C,H,W), X2 (N,F))
import sys
import torch
from torch import nn
import st

work = sys.argv[1]
inp = st.load(f'{work}/bn_in.st')
out = {}
for key, layer in [('X4', nn.BatchNorm2d(inp['X4'].shape[1])), ('X2', nn.BatchNorm1d(inp['X2'].shape[1]))]:
    X = inp[key].clone().requires_grad_(True)
    layer.train()
    Y = layer(X)
    (Y * torch.arange(Y.numel(), dtype=torch.float32).reshape(Y.shape).sin()).sum().backward()
    out[f'{key}.train'] = Y.detach()
    out[f'{key}.grad'] = X.grad
    out[f'{key}.running_mean'] = layer.running_mean
    out[f'{key}.running_var'] = layer.running_var
    layer.eval()
    with torch.no_grad():
        out[f'{key}.eval'] = layer(inp[key])
st.save(f'{work}/bn_torch.st', out)
