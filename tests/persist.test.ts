// Saving and loading: bit-exact round trips, exact resumption from a checkpoint, and hostile files
// that must fail clearly without allocating or changing anything.
import { describe, expect, it } from 'vitest';
import * as f from '../packages/core/src/index.js';

const smallModel = (seed = 1) =>
  new f.nn.Sequential(
    [new f.nn.Conv2d({ filters: 3, kernelSize: [3, 2], activation: 'relu' }), new f.nn.MaxPool2d({ size: 2 }), new f.nn.Flatten(), new f.nn.Dense({ units: 4 })],
    { inputShape: [8, 7, 2], seed },
  );

const data = (step: number) => ({
  x: f.tensor(Float32Array.from({ length: 6 * 8 * 7 * 2 }, (_, i) => Math.sin(i * 0.7 + step)), [6, 8, 7, 2]),
  y: f.tensor(Int32Array.from({ length: 6 }, (_, i) => (i + step) % 4), [6]),
});

async function train(model: f.nn.Sequential, optimizer: f.optim.Optimizer, from: number, to: number) {
  for (let step = from; step < to; step++) {
    const { x, y } = data(step);
    model.trainStep(x, y, optimizer).dispose();
    x.dispose();
    y.dispose();
  }
}

const weightsOf = (model: f.nn.Sequential) => Promise.all(model.parameters().map(async (p) => Array.from(await p.data())));

describe('save and load', () => {
  it('round-trips weights bit-exactly and predicts the same', async () => {
    const model = smallModel();
    await train(model, new f.optim.SGD({ lr: 0.1 }), 0, 3);
    const loaded = f.nn.load(await model.save());
    expect(await weightsOf(loaded)).toEqual(await weightsOf(model));
    const { x } = data(9);
    expect(Array.from(await loaded.predict(x).data())).toEqual(Array.from(await model.predict(x).data()));
    expect(loaded.summary(() => {})).toBe(model.summary(() => {}));
  });

  it.each([
    ['Adam', () => new f.optim.Adam({ lr: 0.01 })],
    ['SGD with momentum', () => new f.optim.SGD({ lr: 0.05, momentum: 0.9 })],
  ])('resuming from a checkpoint (%s) gives bit-identical weights to an uninterrupted run', async (_name, make) => {
    const straight = smallModel();
    await train(straight, make(), 0, 8);

    const first = smallModel();
    const optimizer = make();
    await train(first, optimizer, 0, 5);
    const bytes = await first.save({ optimizer, progress: { step: 5 } });
    const resumed = f.nn.loadCheckpoint(bytes);
    expect(resumed.progress).toEqual({ step: 5 });
    expect(resumed.optimizer?.kind).toBe(optimizer.kind);
    expect(resumed.optimizer?.steps).toBe(5);
    await train(resumed.model, resumed.optimizer!, 5, 8);
    expect(await weightsOf(resumed.model)).toEqual(await weightsOf(straight));
  });
});

/** Rewrites a safetensors file's JSON header (keeping the data) to forge hostile files. */
function rewriteHeader(bytes: Uint8Array, edit: (header: Record<string, any>) => void): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  edit(header);
  const text = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(bytes.subarray(8 + n), 8 + text.length);
  return out;
}

describe('hostile files for nn.load', async () => {
  const model = smallModel();
  const optimizer = new f.optim.Adam();
  await train(model, optimizer, 0, 1);
  const good = await model.save({ optimizer });
  const firstTensor = (h: Record<string, any>) => Object.keys(h).find((k) => k !== '__metadata__')!;
  const architecture = (h: Record<string, any>) => JSON.parse(h.__metadata__['filtro.architecture']);

  const cases: [string, () => Uint8Array, RegExp][] = [
    ['an empty file', () => new Uint8Array(0), /shorter than the 8-byte header/],
    ['a truncated file', () => good.subarray(0, good.length - 10), /./],
    ['a header length beyond the file', () => { const b = good.slice(); new DataView(b.buffer).setUint32(0, b.length + 100, true); return b; }, /header/],
    ['a header claiming terabytes', () => { const b = good.slice(); new DataView(b.buffer).setUint32(4, 1000, true); return b; }, /absurd/],
    ['not safetensors (a PNG signature)', () => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), /./],
    ['invalid JSON in the header', () => { const b = good.slice(); b[8] = 0x7d; return b; }, /JSON|header/],
    ['tensor offsets out of range', () => rewriteHeader(good, (h) => { h[firstTensor(h)].data_offsets = [0, 10 ** 9]; }), /offset|range|size/],
    ['overlapping tensors', () => rewriteHeader(good, (h) => { const [a, b] = Object.keys(h).filter((k) => k !== '__metadata__'); h[b].data_offsets = h[a].data_offsets; }), /overlap|hole|offset/],
    ['an unknown dtype', () => rewriteHeader(good, (h) => { h[firstTensor(h)].dtype = 'Q4'; }), /dtype/],
    ['invalid JSON in the architecture', () => rewriteHeader(good, (h) => { h.__metadata__['filtro.architecture'] = '{nope'; }), /architecture' metadata is not valid JSON/],
    ['no architecture', () => rewriteHeader(good, (h) => { delete h.__metadata__['filtro.architecture']; }), /not saved by filtro/],
    ['an unknown layer kind', () => rewriteHeader(good, (h) => { const a = architecture(h); a.layers[1].kind = 'Dropout'; h.__metadata__['filtro.architecture'] = JSON.stringify(a); }), /layer 1 has unknown kind 'Dropout'/],
    ['shapes that disagree with the architecture', () => rewriteHeader(good, (h) => { const a = architecture(h); a.layers[0].config.filters = 5; h.__metadata__['filtro.architecture'] = JSON.stringify(a); }), /does not match its architecture.*conv2d_1\.weight/],
    ['an architecture asking for a huge layer', () => rewriteHeader(good, (h) => { const a = architecture(h); a.layers[3].config.units = 2 ** 28; h.__metadata__['filtro.architecture'] = JSON.stringify(a); }), /does not match its architecture/],
    ['a missing weight', () => rewriteHeader(good, (h) => { h.__metadata__['filtro.architecture'] = JSON.stringify({ ...architecture(h), layers: [...architecture(h).layers, { kind: 'Dense', config: { units: 2 } }] }); }), /lacks 'dense_2.weight'/],
    ['optimizer state of the wrong shape', () => rewriteHeader(good, (h) => { const name = Object.keys(h).find((k) => k.startsWith('optimizer.m.conv2d_1.bias'))!; h[name].shape = [1, 3]; }), /optimizer state 'optimizer\.m\.conv2d_1\.bias' is \[1,3\]/],
    ['an unknown optimizer', () => rewriteHeader(good, (h) => { h.__metadata__['filtro.optimizer'] = JSON.stringify({ kind: 'Lion', config: {}, steps: 1 }); }), /unknown optimizer kind "Lion"/],
    ['not bytes at all', () => 'weights.safetensors' as unknown as Uint8Array, /Uint8Array/],
  ];

  it.each(cases)('%s: a clear error, nothing allocated, the engine still works', (_name, make, pattern) => {
    const bytes = make();
    const before = f.stats().bytesLive;
    let error: unknown;
    try {
      f.nn.loadCheckpoint(bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(f.FiltroError);
    expect((error as Error).message).toMatch(/^nn\.load: /);
    expect((error as Error).message).toMatch(pattern);
    expect(f.stats().bytesLive).toBe(before);
  });

  it('the good file still loads after all that', () => {
    const { model: loaded, optimizer: restored } = f.nn.loadCheckpoint(good);
    expect(loaded.parameters().length).toBe(4);
    expect(restored?.stateTensors().length).toBe(8);
  });
});
