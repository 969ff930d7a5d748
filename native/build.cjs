// Builds the addon with node-gyp against the running Node's headers (never downloaded ones),
// only when a source changed; `npm run build:native -- --force` rebuilds regardless.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const here = __dirname;
const out = path.join(here, 'build/Release/nanscope_native.node');
const sources = ['binding.gyp', 'find-libtorch.cjs', ...fs.readdirSync(path.join(here, 'src')).map((f) => `src/${f}`)];
const newest = Math.max(...sources.map((f) => fs.statSync(path.join(here, f)).mtimeMs));
if (!process.argv.includes('--force') && fs.existsSync(out) && fs.statSync(out).mtimeMs > newest && !process.env.LIBTORCH) {
  console.log('native: up to date');
  process.exit(0);
}
let nodedir = path.dirname(path.dirname(process.execPath));
if (!fs.existsSync(path.join(nodedir, 'include/node/node_api.h'))) nodedir = process.env.npm_config_nodedir || '/usr';
const gyp = require.resolve('node-gyp/bin/node-gyp.js');
execFileSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '-j', '2'], { cwd: here, stdio: 'inherit' });
