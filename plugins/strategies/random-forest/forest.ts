import { deriveSeed } from "../shared/random.ts";
import { binColumns, computeBinning } from "./binning.ts";
import { ForestOutputs } from "./forest-outputs.ts";
import { type BinnedData, growTree, type Tree, type TreeOptions, treeScratch } from "./tree.ts";
import type { WorkerReply, WorkerRequest } from "./tree-worker.ts";

export type Task = "classification" | "regression";

export interface Forest {
  task: Task;
  trees: Tree[];
  features: number;
  /** Class count (classification) or 1. */
  outputs: number;
}

export interface ForestOptions extends TreeOptions {
  trees: number;
  seed: number;
  /** Worker threads; 1 grows trees on the calling thread. */
  jobs: number;
}

export interface TrainingTable {
  x: Float32Array;
  rows: number;
  features: number;
  /** Class indexes (classification) or targets (regression). */
  y: Uint8Array | Float32Array;
  task: Task;
  classCount: number;
}

export interface ForestHooks {
  /**
   * Called by each worker (0, 1, …) before it takes a tree: resolves when that worker may go on (pause, fewer
   * threads allowed), throws when the run must stop (abort).
   */
  between?: (worker: number) => Promise<void>;
  onTree?: (done: number, total: number) => void;
  /** Called on the calling thread with each tree as it is grown, in the order they are finished. */
  onGrown?: (index: number, tree: Tree) => void;
}

/** Trains a random forest; tree i is grown from seed(i) whatever the number of workers, so results repeat. */
export async function trainForest(
  table: TrainingTable,
  options: ForestOptions,
  hooks: ForestHooks = {},
): Promise<Forest> {
  const binning = computeBinning(table.x, table.rows, table.features, 256, options.seed);
  const data: BinnedData = {
    ...binColumns(table.x, table.rows, table.features, binning),
    rows: table.rows,
    features: table.features,
    edges: binning.edges,
    classCount: table.classCount,
    ...(table.task === "classification"
      ? { classes: shared(table.y as Uint8Array) }
      : { target: shared(table.y as Float32Array) }),
  };
  const trees: Tree[] = new Array(options.trees);
  const seedOf = (tree: number) => deriveSeed(options.seed, tree);
  let done = 0;
  const grown = (index: number, tree: Tree) => {
    trees[index] = tree;
    hooks.onGrown?.(index, tree);
    hooks.onTree?.(++done, options.trees);
  };
  if (options.jobs <= 1) {
    const scratch = treeScratch(table.rows);
    for (let tree = 0; tree < options.trees; tree++) {
      await hooks.between?.(0);
      grown(tree, growTree(data, options, seedOf(tree), scratch));
    }
  } else await growInWorkers(data, options, seedOf, grown, hooks.between);
  return {
    task: table.task,
    trees,
    features: table.features,
    outputs: table.task === "classification" ? table.classCount : 1,
  };
}

function shared<T extends Uint8Array | Float32Array>(array: T): T {
  const copy = new (array.constructor as new (buffer: SharedArrayBuffer) => T)(new SharedArrayBuffer(array.byteLength));
  copy.set(array as never);
  return copy;
}

// A compiled binary holds the worker as an extra entry point under its source path from the project root
// (scripts/build.ts); from source it sits next to this file.
const WORKER_MODULE = Bun.isStandaloneExecutable
  ? "./plugins/strategies/random-forest/tree-worker.ts"
  : new URL("./tree-worker.ts", import.meta.url).href;

/**
 * Hands out one tree at a time to each worker, so a pause, an abort or fewer allowed threads take effect
 * between trees. A worker held back when the last tree is handed out has nothing left to wait for. A
 * worker's finished tree is passed on (`grown`) once its next tree is handed out, so that the work done
 * with it on this thread does not keep the worker waiting.
 */
async function growInWorkers(
  data: BinnedData,
  options: ForestOptions,
  seedOf: (tree: number) => number,
  grown: (index: number, tree: Tree) => void,
  between?: (worker: number) => Promise<void>,
) {
  const workers = Array.from({ length: Math.min(options.jobs, options.trees) }, () => new Worker(WORKER_MODULE));
  let next = 0;
  const { promise: allHandedOut, resolve: handedOutAll } = Promise.withResolvers<void>();
  const finished = (reply: WorkerReply & { type: "tree" }) => grown(reply.tree, reply.result);
  try {
    await Promise.all(
      workers.map(async (worker, index) => {
        worker.postMessage({ type: "data", data, options } satisfies WorkerRequest);
        let previous: (WorkerReply & { type: "tree" }) | undefined;
        while (next < options.trees) {
          await Promise.race([between?.(index), allHandedOut]);
          if (next >= options.trees) break;
          const tree = next++;
          if (next >= options.trees) handedOutAll();
          const replied = new Promise<WorkerReply>((resolve, reject) => {
            worker.onmessage = (event: MessageEvent<WorkerReply>) => resolve(event.data);
            worker.onerror = (event) => reject(new Error(event.message));
            worker.postMessage({ type: "grow", tree, seed: seedOf(tree) } satisfies WorkerRequest);
          });
          if (previous) finished(previous);
          const reply = await replied;
          if (reply.type === "error") throw new Error(`tree ${tree}: ${reply.message}`);
          previous = reply;
        }
        if (previous) finished(previous);
      }),
    );
  } finally {
    for (const worker of workers) worker.terminate();
  }
}

/** Class probabilities (rows × classes, averaged over trees) or predictions (rows × 1). */
export function predictForest(forest: Forest, x: Float32Array, rows: number): Float32Array {
  const outputs = new ForestOutputs(x, rows, forest.features, forest.outputs, forest.trees.length);
  forest.trees.forEach((tree, index) => outputs.add(index, tree));
  return outputs.result();
}
