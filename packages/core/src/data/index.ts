// Environment-neutral data exports (browser-safe). Node-only loading lives in ./mnist-node.js.
export * from './mnist.js';
