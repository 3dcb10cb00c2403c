// Builds: ESM + CJS for npm, bundled .d.ts, the script-tag IIFE (every dependency inside),
// and surewire/server (Node only, never part of the browser bundle).
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { dts } from 'rollup-plugin-dts';

const ts = () => typescript({ tsconfig: './tsconfig.build.json' });
const external = [/^node:/, 'ws', 'mitt', 'eventsource-parser'];

export default [
  {
    input: 'src/index.ts',
    external,
    plugins: [ts()],
    output: [
      { file: 'dist/surewire.mjs', format: 'es', sourcemap: true },
      { file: 'dist/surewire.cjs', format: 'cjs', sourcemap: true, exports: 'named' },
    ],
  },
  {
    // The CDN build: no externals, so `window.Surewire` works from one <script> tag.
    input: 'src/index.ts',
    plugins: [nodeResolve({ browser: true }), ts(), terser({ compress: { passes: 3 }, mangle: { properties: { regex: /^#/ } } })],
    output: { file: 'dist/surewire.min.js', format: 'iife', name: 'Surewire', sourcemap: true },
  },
  {
    input: 'src/server/index.ts',
    external,
    plugins: [ts()],
    output: [
      { file: 'dist/server.mjs', format: 'es', sourcemap: true },
      { file: 'dist/server.cjs', format: 'cjs', sourcemap: true, exports: 'named' },
    ],
  },
  // Declarations twice, .d.ts for `import` and .d.cts for `require`: under node16/nodenext a
  // CommonJS consumer of a "type": "module" package must not be handed ESM typings. The script
  // tag's global gets its typings too (`export as namespace`).
  {
    input: 'src/index.ts',
    external,
    plugins: [dts()],
    output: [
      { file: 'dist/surewire.d.ts', format: 'es', footer: 'export as namespace Surewire;' },
      { file: 'dist/surewire.d.cts', format: 'es', footer: 'export as namespace Surewire;' },
    ],
  },
  {
    input: 'src/server/index.ts',
    external,
    plugins: [dts()],
    output: [
      { file: 'dist/server.d.ts', format: 'es' },
      { file: 'dist/server.d.cts', format: 'es' },
    ],
  },
];
