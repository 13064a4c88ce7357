// The geometry of a 2-D convolution or pooling window over NHWC maps, shared by the CPU paths and
// the GPU lowering. Output size per axis: floor((in + padBefore + padAfter − window) / stride) + 1.
// The kernels' WindowDims (batch, sizes, window, stride, padTop/padLeft, output size) is the same
// object without the trailing pads, so the lowering passes a geometry straight to a kernel.
import type { WindowDims } from '@filtro/kernels';

export interface WindowGeometry extends WindowDims {
  padBottom: number;
  padRight: number;
}

/** A convolution adds the number of filters K (output channels); filters are [Fh, Fw, Cin, K]. */
export interface ConvGeometry extends WindowGeometry {
  outChannels: number;
}

export type Activation = 'none' | 'relu';
