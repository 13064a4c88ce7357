// One conformance suite for every backend: each case's forward output and gradients must match
// the cpu backend running its reference loops (the oracle). webgpu runs through Dawn here
// (SwiftShader without a GPU, the real adapter with one); the same cases run in headless Chromium
// from packages/demo/conformance.html (tests/e2e).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as f from '../../packages/core/src/index.js';
import { setCpuFastPath } from '../../packages/core/src/backends/cpu.js';
import { lowerings } from '../../packages/core/src/backends/webgpu-lowering.js';
import { compareResults, conformanceCases, runCase } from './cases.js';
import type { CaseResult } from './cases.js';

const cases = conformanceCases();
const expected = new Map<string, CaseResult>();

beforeAll(async () => {
  await f.setBackend('cpu');
  setCpuFastPath(false);
  try {
    for (const c of cases) expected.set(c.name, await runCase(f, c));
  } finally {
    setCpuFastPath(true);
  }
});

it('case names are unique', () => {
  expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
});

it('every op defined in packages/core/src/ops has a webgpu lowering', async () => {
  const modules = import.meta.glob('../../packages/core/src/ops/*.ts', { eager: true }) as Record<string, Record<string, unknown>>;
  const names = Object.values(modules).flatMap((m) =>
    Object.values(m).filter((v): v is { name: string } => typeof v === 'object' && v !== null && 'reference' in v && 'outputs' in v).map((op) => op.name),
  );
  expect(names.length).toBeGreaterThan(20);
  expect(names.filter((n) => !(n in lowerings))).toEqual([]);
});

describe.each(['cpu', 'webgpu'] as const)('%s backend', (backend) => {
  beforeAll(async () => {
    await f.setBackend(backend);
  });
  afterAll(async () => {
    await f.setBackend('cpu');
  });

  it('reports itself', () => {
    const info = f.backendInfo();
    expect(info.name).toBe(backend);
    console.log(`conformance on ${info.description}`);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const actual = await runCase(f, c);
    if (c.expected) expect(Array.from(actual.outputs[0])).toEqual(c.expected);
    expect(compareResults(expected.get(c.name)!, actual)).toBeNull();
  });

  it('optimizer updates (SGD, SGD with momentum, Adam; gated by the check or not) match the reference over three steps', async () => {
    // trainStep gates every update by the finite check; Optimizer.step without a check does not.
    // The learning rate changes after the first step: the per-step hyper tensor must follow it.
    const weights = async (make: () => f.optim.SGD | f.optim.Adam, checked: boolean) => {
      const model = new f.nn.Sequential(
        [new f.nn.Conv2d({ filters: 3, kernelSize: 3, activation: 'relu' }), new f.nn.AvgPool2d({ size: 2 }), new f.nn.Flatten(), new f.nn.Dense({ units: 4 })],
        { inputShape: [7, 7, 2], seed: 3 },
      );
      const x = f.tensor(Float32Array.from({ length: 5 * 7 * 7 * 2 }, (_, i) => Math.sin(i * 1.3)), [5, 7, 7, 2]);
      const y = f.tensor(Int32Array.from([0, 1, 2, 3, 1]), [5]);
      const optimizer = make();
      for (let i = 0; i < 3; i++) {
        if (checked) model.trainStep(x, y, optimizer).dispose();
        else {
          const loss = f.softmaxCrossEntropy(model.forward(x), y);
          const params = model.parameters();
          optimizer.step(params, f.gradients(loss, params), [loss]);
          loss.dispose();
        }
        if (i === 0) optimizer.lr *= 0.5;
      }
      return Promise.all([...model.parameters(), ...optimizer.stateTensors().map((s) => s.tensor)].map((p) => p.data()));
    };
    const makers = [() => new f.optim.SGD({ lr: 0.1 }), () => new f.optim.SGD({ lr: 0.05, momentum: 0.9 }), () => new f.optim.Adam({ lr: 0.01 })];
    for (const make of makers) {
      for (const checked of [true, false]) {
        const got = await weights(make, checked);
        await f.setBackend('cpu');
        setCpuFastPath(false);
        const want = await weights(make, checked);
        setCpuFastPath(true);
        await f.setBackend(backend);
        expect(compareResults({ outputs: want }, { outputs: got }), `${make().kind} checked=${checked}`).toBeNull();
      }
    }
  });
});
