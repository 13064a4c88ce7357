// The README's complete example runs exactly as written, against the built package.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

it('the README example defines, trains and evaluates a CNN', () => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const block = /## A complete example\s+```js\n([\s\S]*?)```/.exec(readme);
  expect(block, 'README has a js block under "A complete example"').not.toBeNull();
  const file = `${root}readme-example.test-tmp.mjs`;
  writeFileSync(file, block![1]);
  try {
    const out = execFileSync(process.execPath, [file], { cwd: root, encoding: 'utf8' });
    expect(out).toContain('total parameters: 170');
    const accuracy = Number(/accuracy: ([\d.]+)/.exec(out)?.[1]);
    expect(accuracy).toBeGreaterThanOrEqual(0.95);
    const losses = [...out.matchAll(/loss ([\d.]+)/g)].map((m) => Number(m[1]));
    expect(losses.at(-1)).toBeLessThan(losses[0]);
    expect(out).toContain('Float32Array(1) [ 32 ] Float32Array(3) [ 4, 5, 6 ]');
  } finally {
    rmSync(file, { force: true });
  }
});
