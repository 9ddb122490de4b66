import { findLeaves, type Tree } from "./tree.ts";

/**
 * A forest's outputs on a set of rows (class probabilities, rows × classes, or predictions, rows × 1),
 * added up while the forest grows: a tree's leaves are found as soon as it is grown, while the workers
 * grow the next ones, and its values are added in tree order, so the sums round the same way with any
 * number of workers.
 */
export class ForestOutputs {
  private readonly sums: Float64Array;
  /** Trees grown ahead of one still being grown elsewhere, with their leaves. */
  private readonly waiting = new Map<number, { tree: Tree; leaves: Int32Array }>();
  private readonly spare: Int32Array[] = [];
  private next = 0;

  constructor(
    private readonly x: Float32Array,
    private readonly rows: number,
    private readonly features: number,
    private readonly outputs: number,
    private readonly trees: number,
  ) {
    this.sums = new Float64Array(rows * outputs);
  }

  add(index: number, tree: Tree): void {
    const leaves = this.spare.pop() ?? new Int32Array(this.rows);
    findLeaves(tree, this.x, this.features, this.rows, leaves);
    this.waiting.set(index, { tree, leaves });
    for (let ready = this.waiting.get(this.next); ready; ready = this.waiting.get(this.next)) {
      this.waiting.delete(this.next++);
      addLeafValues(ready.tree.value, this.outputs, ready.leaves, this.sums);
      this.spare.push(ready.leaves);
    }
  }

  /** The average over all the trees, once every one has been added. */
  result(): Float32Array {
    if (this.next !== this.trees) throw new Error(`forest outputs: ${this.next} of ${this.trees} trees added`);
    const result = new Float32Array(this.sums.length);
    for (let i = 0; i < result.length; i++) result[i] = this.sums[i]! / this.trees;
    return result;
  }
}

function addLeafValues(value: Float32Array, outputs: number, leaves: Int32Array, sums: Float64Array): void {
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i]! * outputs;
    for (let k = 0; k < outputs; k++) sums[i * outputs + k]! += value[leaf + k]!;
  }
}
