// Finds libtorch for binding.gyp, in the order tch-rs uses:
//   1. LIBTORCH=/path (a libtorch tree or a PyTorch wheel's torch/ folder: include/ and lib/ inside)
//   2. LIBTORCH_USE_PYTORCH=1: ask python3's torch where its headers and libs are (the CUDA path)
//   3. Debian's libtorch-dev: headers in /usr/include, libs in the multiarch lib dir
// Prints one gyp value per call: `node find-libtorch.cjs include|libdir|libs|cxx11abi`.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

function fromRoot(root) {
  const inc = path.join(root, 'include');
  return { include: [inc, path.join(inc, 'torch/csrc/api/include')], libdir: path.join(root, 'lib') };
}

function locate() {
  const tried = [];
  if (process.env.LIBTORCH) {
    const r = fromRoot(process.env.LIBTORCH);
    if (fs.existsSync(path.join(r.libdir, 'libtorch.so'))) return r;
    tried.push(`LIBTORCH=${process.env.LIBTORCH}: no lib/libtorch.so there`);
  }
  if (process.env.LIBTORCH_USE_PYTORCH === '1') {
    try {
      const root = execFileSync('python3', ['-c', 'import torch,os;print(os.path.dirname(torch.__file__))']).toString().trim();
      return fromRoot(root);
    } catch (e) {
      tried.push(`LIBTORCH_USE_PYTORCH=1: python3 -c 'import torch' failed`);
    }
  }
  for (const libdir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib']) {
    if (fs.existsSync(path.join(libdir, 'libtorch.so')) && fs.existsSync('/usr/include/torch/csrc/api/include')) {
      return { include: ['/usr/include', '/usr/include/torch/csrc/api/include'], libdir };
    }
  }
  tried.push('Debian libtorch-dev: /usr/include/torch and libtorch.so not found');
  throw new Error(
    'nanscope: libtorch not found. Tried:\n  ' + tried.join('\n  ') +
    '\nFix one of:\n  apt-get install libtorch-dev            (Debian/Ubuntu, CPU)\n' +
    '  LIBTORCH=/path/to/libtorch npm run build:native\n' +
    '  LIBTORCH_USE_PYTORCH=1 npm run build:native   (use python3 torch, e.g. a CUDA wheel)');
}

const what = process.argv[2];
const r = locate();
const libs = ['-ltorch', '-ltorch_cpu', '-lc10'];
if (fs.existsSync(path.join(r.libdir, 'libtorch_cuda.so'))) libs.push('-Wl,--no-as-needed', '-ltorch_cuda', '-lc10_cuda', '-Wl,--as-needed');
if (what === 'include') console.log(r.include.join(' '));
else if (what === 'libdir') console.log(r.libdir);
else if (what === 'libs') console.log(libs.join(' '));
else if (what === 'cxx11abi') {
  // Debian builds with the new ABI; PyTorch wheels before 2.6 used the old one. Probe the library.
  let abi = '1';
  try {
    const syms = execFileSync('sh', ['-c', `nm -D --defined-only ${path.join(r.libdir, 'libc10.so')} | grep -c __cxx11 || true`]).toString().trim();
    abi = Number(syms) > 0 ? '1' : '0';
  } catch { /* keep default */ }
  console.log(abi);
} else throw new Error(`usage: find-libtorch.cjs include|libdir|libs|cxx11abi`);
