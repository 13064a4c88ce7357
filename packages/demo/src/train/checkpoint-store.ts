// The train page's checkpoint in the browser's IndexedDB: one record, the latest, replaced by every
// save (database 'filtro', object store 'checkpoints', key 'latest'). The record is the checkpoint's
// safetensors bytes (weights, architecture, optimizer state, progress: see core nn/persist.ts) and a
// little metadata, so the page can offer to resume without decoding the file. Failures come out as
// CheckpointStoreError, with a reason the page can explain (no IndexedDB here, storage full).
import type { Hyper } from './loop.js';
import type { DatasetId } from './params.js';

export interface CheckpointMeta {
  dataset: DatasetId;
  datasetTitle: string;
  /** The layers, e.g. "28×28×1 → Conv2d → MaxPool2d → Flatten → Dense". */
  architecture: string;
  step: number;
  /** Whole epochs done. */
  epoch: number;
  /** Of the last batch read back before the save (null: none yet). */
  loss: number | null;
  batchAccuracy: number | null;
  /** The settings of the run, so that a resumed run goes on with them. */
  hyper: Hyper;
  backend: string;
  /** Date.now() at the save. */
  savedAt: number;
  bytes: number;
}

export interface StoredCheckpoint {
  meta: CheckpointMeta;
  bytes: Uint8Array;
}

export type StoreFailure = 'unavailable' | 'full' | 'failed';

export class CheckpointStoreError extends Error {
  constructor(readonly reason: StoreFailure, message: string) {
    super(message);
    this.name = 'CheckpointStoreError';
  }
}

const DATABASE = 'filtro';
const STORE = 'checkpoints';
const KEY = 'latest';

/** An IndexedDB error (or anything thrown on the way) as a CheckpointStoreError a person can act on. */
export function storeError(e: unknown): CheckpointStoreError {
  if (e instanceof CheckpointStoreError) return e;
  const name = e instanceof DOMException || e instanceof Error ? e.name : '';
  const detail = e instanceof Error || e instanceof DOMException ? e.message : String(e);
  if (name === 'QuotaExceededError') return new CheckpointStoreError('full', `the browser's storage for this site is full (${detail})`);
  if (name === 'SecurityError' || name === 'InvalidStateError') return new CheckpointStoreError('unavailable', `the browser does not let this page use IndexedDB (${name}: ${detail})`);
  return new CheckpointStoreError('failed', `IndexedDB failed: ${name ? `${name}: ` : ''}${detail}`);
}

function openDatabase(): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined' || !indexedDB) {
    return Promise.reject(new CheckpointStoreError('unavailable', 'this browser gives the page no IndexedDB (a private window, or site data turned off?)'));
  }
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(storeError(request.error));
  });
}

/** Runs one request in its own transaction; resolves with its result once the transaction commits. */
async function transact<T>(mode: IDBTransactionMode, request: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDatabase().catch((e: unknown) => Promise.reject(storeError(e)));
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const pending = request(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(pending.result);
      // A full disk shows up here: the put succeeds, the commit aborts with QuotaExceededError.
      tx.onabort = () => reject(storeError(tx.error ?? pending.error));
    }).catch((e: unknown) => Promise.reject(storeError(e)));
  } finally {
    db.close();
  }
}

export function writeCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
  return transact('readwrite', (store) => store.put(checkpoint, KEY)).then(() => undefined);
}

/** The stored checkpoint, or null when there is none. */
export async function readCheckpoint(): Promise<StoredCheckpoint | null> {
  const found = await transact<unknown>('readonly', (store) => store.get(KEY));
  if (found === undefined) return null;
  const record = found as Partial<StoredCheckpoint> | null;
  if (!(record?.bytes instanceof Uint8Array) || !Number.isInteger(record.meta?.step) || typeof record.meta?.dataset !== 'string') {
    throw new CheckpointStoreError('failed', 'the stored checkpoint is not one this page wrote (the next save replaces it)');
  }
  return record as StoredCheckpoint;
}

export function deleteCheckpoint(): Promise<void> {
  return transact('readwrite', (store) => store.delete(KEY)).then(() => undefined);
}
