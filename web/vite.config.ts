// Build: `npx vite build web` (from the repo root) → web/dist.
// One JS entry and one CSS file, no code splitting and no module preload
// polyfill, so src/report can inline the bundle into a single offline HTML
// file; the manifest tells it which files those are.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    manifest: true,
    target: 'es2022',
    modulePreload: false,
    assetsInlineLimit: 1 << 20,
    cssCodeSplit: false,
    sourcemap: false,
    reportCompressedSize: false,
  },
});
