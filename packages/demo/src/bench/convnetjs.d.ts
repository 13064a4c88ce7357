// Just enough of ConvNetJS 0.3 (plain JS, no types of its own) for the benchmark page.
declare module 'convnetjs' {
  export class Vol {
    constructor(sx: number, sy: number, depth: number, c?: number);
    w: Float64Array | number[];
  }
  export class Net {
    makeLayers(defs: Record<string, unknown>[]): void;
    forward(v: Vol, isTraining?: boolean): Vol;
  }
  export class Trainer {
    constructor(net: Net, options: Record<string, unknown>);
    train(x: Vol, y: number): { loss: number; cost_loss: number; fwd_time: number; bwd_time: number };
  }
  const convnetjs: { Vol: typeof Vol; Net: typeof Net; Trainer: typeof Trainer; REVISION: string };
  export default convnetjs;
}
