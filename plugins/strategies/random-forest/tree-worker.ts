// A Bun Worker that grows trees on request; the binned data arrive once, in shared memory.
import { type BinnedData, growTree, type TreeOptions, type TreeScratch, treeScratch } from "./tree.ts";

declare const self: Worker;

export type WorkerRequest =
  | { type: "data"; data: BinnedData; options: TreeOptions }
  | { type: "grow"; tree: number; seed: number };

export type WorkerReply =
  | { type: "tree"; tree: number; result: ReturnType<typeof growTree> }
  | { type: "error"; message: string };

let data: BinnedData | undefined;
let options: TreeOptions | undefined;
let scratch: TreeScratch | undefined;

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const message = event.data;
  try {
    if (message.type === "data") {
      data = message.data;
      options = message.options;
      scratch = treeScratch(data.rows);
      return;
    }
    const result = growTree(data!, options!, message.seed, scratch);
    const reply: WorkerReply = { type: "tree", tree: message.tree, result };
    self.postMessage(reply, {
      transfer: [
        result.feature.buffer,
        result.threshold.buffer,
        result.left.buffer,
        result.right.buffer,
        result.value.buffer,
      ] as ArrayBuffer[],
    });
  } catch (error) {
    self.postMessage({ type: "error", message: (error as Error).message } satisfies WorkerReply);
  }
};
