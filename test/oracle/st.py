# Minimal safetensors reader/writer on numpy (the oracle scripts' side of src/torch/serialize.ts).
import json, struct
import numpy as np
import torch

DT = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32, 'U8': np.uint8}

def load(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n])
    out = {}
    for k, e in h.items():
        if k == '__metadata__':
            continue
        s, t = e['data_offsets']
        a = np.frombuffer(b[8 + n + s:8 + n + t], dtype=DT[e['dtype']]).reshape(e['shape'])
        out[k] = torch.from_numpy(a.copy())
    return out

def save(path, tensors):
    code = {torch.float32: 'F32', torch.float64: 'F64', torch.int64: 'I64', torch.int32: 'I32', torch.uint8: 'U8'}
    header, blobs, off = {}, [], 0
    for k, t in tensors.items():
        a = t.detach().contiguous().numpy().tobytes()
        header[k] = {'dtype': code[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(a)]}
        blobs.append(a)
        off += len(a)
    j = json.dumps(header).encode()
    j += b' ' * ((8 - len(j) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(j)) + j + b''.join(blobs))
