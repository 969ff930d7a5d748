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

def cpu_s():
    # This process and its reaped children (the DataLoader's workers, joined at each loader's end).
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

def epochs(c):
    # d2l's train_ch6 over a subset: DataLoaders with d2l's transforms (Resize + ToTensor per image,
    # in `workers` processes (d2l: 4), started again every epoch as d2l's non-persistent loaders are), the
    # step, the per-step loss and accuracy sums, then evaluate_accuracy_gpu on the test loader.
    # Per epoch: wall and CPU seconds, and per phase (data: waiting for the next batch; step:
    # forward, backward, update and the metric sums; eval), wall and this process's CPU.
    from PIL import Image
    import torchvision.transforms as T
    imgs = read_idx(c['images'])
    labels = np.frombuffer(gzip.open(c['labels']).read(), dtype=np.uint8, offset=8)
    timgs = read_idx(c['test_images'])[:c['n_test']]
    tlabels = np.frombuffer(gzip.open(c['test_labels']).read(), dtype=np.uint8, offset=8)[:c['n_test']]
    imgs, labels = imgs[:c['n']], labels[:c['n']]
    tf = T.Compose([T.Resize(c['side']), T.ToTensor()])
    class DS(torch.utils.data.Dataset):
        # torchvision's FashionMNIST.__getitem__: images and targets held as torch tensors, each
        # item a PIL image from the tensor's numpy view, then the transform.
        def __init__(self, x, y): self.x, self.y = torch.from_numpy(x.copy()), torch.from_numpy(y.astype(np.int64))
        def __len__(self): return len(self.x)
        def __getitem__(self, i): return tf(Image.fromarray(self.x[i].numpy(), mode='L')), int(self.y[i])
    train_iter = torch.utils.data.DataLoader(DS(imgs, labels), batch_size=c['batch'], shuffle=True, num_workers=c['workers'])
    test_iter = torch.utils.data.DataLoader(DS(timgs, tlabels), batch_size=c['batch'], shuffle=False, num_workers=c['workers'])
    setup(c)
    net, opt, loss = state['net'], state['opt'], state['loss']
    out = []
    for e in range(c['epochs']):
        ph = {k: [0.0, 0.0] for k in ('data', 'step', 'eval')}
        def span(k, w, p):
            ph[k][0] += time.perf_counter() - w
            ph[k][1] += time.process_time() - p
        w0, c0 = time.perf_counter(), cpu_s()
        net.train()
        metric = [0.0, 0.0, 0]
        # Starting the loader's iterator starts its worker processes: data time, as the user waits for it.
        w, p = time.perf_counter(), time.process_time()
        it = iter(train_iter)
        span('data', w, p)
        while True:
            w, p = time.perf_counter(), time.process_time()
            try:
                X, y = next(it)
            except StopIteration:
                span('data', w, p)
                break
            span('data', w, p)
            w, p = time.perf_counter(), time.process_time()
            opt.zero_grad()
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            opt.step()
            with torch.no_grad():
                metric[0] += float(l) * X.shape[0]
                metric[1] += float((y_hat.argmax(axis=1).type(y.dtype) == y).type(y.dtype).sum())
                metric[2] += X.shape[0]
            span('step', w, p)
        w, p = time.perf_counter(), time.process_time()
        net.eval()
        right, total = 0.0, 0
        with torch.no_grad():
            for X, y in test_iter:
                right += float((net(X).argmax(axis=1).type(y.dtype) == y).type(y.dtype).sum())
                total += y.numel()
        span('eval', w, p)
        out.append({'wall_s': time.perf_counter() - w0, 'cpu_s': cpu_s() - c0,
                    'phases': {k: {'wall_s': v[0], 'cpu_s': v[1]} for k, v in ph.items()},
                    'test_acc': right / max(1, total)})
    return {'epochs': out}

def rss(c):
    # VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's peak (kept across fork
    # and exec), VmHWM is this process's own high-water mark.
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return {'maxrss_kb': int(line.split()[1])}
    return {'maxrss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}

OPS = {'setup': setup, 'step': step, 'data': data, 'epochs': epochs, 'rss': rss,
       'default_threads': lambda c: {'threads': DEFAULT_THREADS}}
for line in sys.stdin:
    c = json.loads(line)
    try:
        out = OPS[c['op']](c)
    except Exception as e:  # report, keep serving
        out = {'error': repr(e)}
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
