// The geometry of a 2-D convolution or pooling window over NHWC maps, shared by the CPU paths and
// the GPU lowering. Output size per axis: floor((in + padBefore + padAfter − window) / stride) + 1.

export interface WindowGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  windowHeight: number;
  windowWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
  outHeight: number;
  outWidth: number;
}

/** A convolution adds the number of filters K (output channels); filters are [Fh, Fw, Cin, K]. */
export interface ConvGeometry extends WindowGeometry {
  outChannels: number;
}

export type Activation = 'none' | 'relu';
