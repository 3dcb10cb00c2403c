// @vitest-environment node
/**
 * The published typings as a strict user compiles them: test/types/consumer/ imports `surewire`
 * and `surewire/server` by name (the package's own `exports`, so dist/*.d.ts and *.d.cts, which
 * `npm test` builds first), with strict, exactOptionalPropertyTypes and skipLibCheck off, under
 * bundler resolution and under node16 from an ES module and from a CommonJS file.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = (config: string): Promise<{ code: number; output: string }> =>
  new Promise((resolve) => {
    execFile(process.execPath, ['node_modules/typescript/bin/tsc', '-p', `test/types/consumer/${config}`], { cwd: root }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}` }),
    );
  });

describe('the published typings compile in a strict consumer', () => {
  it.each(['tsconfig.bundler.json', 'tsconfig.node16.json'])('%s', async (config) => {
    const { code, output } = await tsc(config);
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 60_000);
});
