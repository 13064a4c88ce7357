// f.nn: layers and models.
export { AvgPool2d, Conv2d, Dense, Flatten, MaxPool2d, ReLU } from './layers.js';
export type { Conv2dLayerOptions, DenseOptions, Layer, LayerShapeInfo } from './layers.js';
export { Sequential } from './sequential.js';
export type { SequentialOptions, TrainStepOptions } from './sequential.js';
export { checkNumerics } from './numerics.js';
export type { NumericsReport } from './numerics.js';
export { lenet } from './models.js';
export { loadCheckpoint, loadModel as load } from './persist.js';
export type { Checkpoint, SaveOptions } from './persist.js';
export { Trainer } from './trainer.js';
export type { TrainerEvent, TrainerOptions } from './trainer.js';
