# PyTorch side of the side-by-side benchmark (Debian python3-torch 1.13, the same libtorch).
# Reads one JSON command per line on stdin, answers one JSON line on stdout, so the bench can
# alternate A/B steps with nanscope without paying interpreter start-up between them.
import gzip, json, os, resource, sys, time
import numpy as np
import torch
from torch import nn
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'test', 'oracle'))
import d2l_nets

state = {}
# PyTorch's own choice of intra-op threads, before the bench sets them (what d2l's code gets).
DEFAULT_THREADS = torch.get_num_threads()

def side_out(s):
    for k, st, p in [(11, 4, 1), (3, 2, 0), (5, 1, 2), (3, 2, 0), (3, 1, 1), (3, 2, 0)]:
        s = (s + 2 * p - k) // st + 1
    return s

def setup(c):
    torch.set_num_threads(c['threads'])
    torch.manual_seed(0)
    if c['model'] == 'alexnet':
        net = d2l_nets.alexnet(256 * side_out(c['side']) ** 2)
    elif c['model'] in d2l_nets.ZOO:
        net = d2l_nets.ZOO[c['model']](c['side'])
    else:
        net = d2l_nets.lenet()
    net.apply(d2l_nets.init_weights)
    state.update(net=net, opt=torch.optim.SGD(net.parameters(), lr=c.get('lr', 0.01)), loss=nn.CrossEntropyLoss(),
                 X=torch.rand(c['batch'], 1, c['side'], c['side']), y=torch.randint(0, 10, (c['batch'],)))
    return {}

def step(c):
    net, opt, loss, X, y = state['net'], state['opt'], state['loss'], state['X'], state['y']
    times = []
    for _ in range(c['n']):
        t = time.perf_counter()
        opt.zero_grad()
        l = loss(net(X), y)
        l.backward()
        opt.step()
        times.append(time.perf_counter() - t)
    return {'times': times}

def read_idx(path):
    b = gzip.open(path).read()
    n = int.from_bytes(b[4:8], 'big')
    return np.frombuffer(b, dtype=np.uint8, offset=16).reshape(n, 28, 28)

def data(c):
    # d2l's transform per image: PIL image -> Resize -> ToTensor, then batch collation.
    from PIL import Image
    import torchvision.transforms as T
    imgs = read_idx(c['images'])[:c['n']]
    tf = T.Compose([T.Resize(c['side']), T.ToTensor()])
    t = time.perf_counter()
    xs = [tf(Image.fromarray(a, mode='L')) for a in imgs]
    torch.stack(xs)
    return {'seconds': time.perf_counter() - t}

def epoch(c):
    # One d2l epoch over a subset: DataLoader with d2l's transforms, train_ch6's step.
    from PIL import Image
    import torchvision.transforms as T
    imgs = read_idx(c['images'])[:c['n']]
    labels = np.frombuffer(gzip.open(c['labels']).read(), dtype=np.uint8, offset=8)[:c['n']]
    tf = T.Compose([T.Resize(c['side']), T.ToTensor()])
    class DS(torch.utils.data.Dataset):
        def __len__(self): return len(imgs)
        def __getitem__(self, i): return tf(Image.fromarray(imgs[i], mode='L')), int(labels[i])
    it = torch.utils.data.DataLoader(DS(), batch_size=c['batch'], shuffle=True, num_workers=c['workers'])
    setup(c)
    net, opt, loss = state['net'], state['opt'], state['loss']
    net.train()
    t = time.perf_counter()
    for X, y in it:
        opt.zero_grad()
        l = loss(net(X), y)
        l.backward()
        opt.step()
    return {'seconds': time.perf_counter() - t}

def rss(c):
    # VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's peak (kept across fork
    # and exec), VmHWM is this process's own high-water mark.
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return {'maxrss_kb': int(line.split()[1])}
    return {'maxrss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}

OPS = {'setup': setup, 'step': step, 'data': data, 'epoch': epoch, 'rss': rss,
       'default_threads': lambda c: {'threads': DEFAULT_THREADS}}
for line in sys.stdin:
    c = json.loads(line)
    try:
        out = OPS[c['op']](c)
    except Exception as e:  # report, keep serving
        out = {'error': repr(e)}
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
