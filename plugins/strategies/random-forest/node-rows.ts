/**
 * The rows a tree is grown on, by position: each node holds a range of positions, its rows in ascending
 * order, so that reading a column goes forwards through memory. A row's weight (bootstrap draws) and its
 * class or target sit at its position and move with it, read in order rather than gathered.
 */
export interface NodeRows {
  /** Bootstrap draws per row. */
  draws: Int32Array;
  index: Uint32Array;
  weight: Int32Array;
  label: Uint8Array;
  target: Float32Array;
  /** Where a split's right-hand rows wait while the left-hand ones close up. */
  spareIndex: Uint32Array;
  spareWeight: Int32Array;
  spareLabel: Uint8Array;
  spareTarget: Float32Array;
}

export function nodeRows(rows: number): NodeRows {
  return {
    draws: new Int32Array(rows),
    index: new Uint32Array(rows),
    weight: new Int32Array(rows),
    label: new Uint8Array(rows),
    target: new Float32Array(rows),
    spareIndex: new Uint32Array(rows),
    spareWeight: new Int32Array(rows),
    spareLabel: new Uint8Array(rows),
    spareTarget: new Float32Array(rows),
  };
}

/**
 * Draws the tree's rows (a bootstrap sample, or every row once) into positions [0, used), and returns
 * `used`. `classes` or `targets` gives each row's label.
 */
export function drawRows(
  rows: NodeRows,
  count: number,
  random: () => number,
  bootstrap: boolean,
  classes: Uint8Array | undefined,
  targets: Float32Array | undefined,
): number {
  const { draws, index, weight, label, target } = rows;
  if (bootstrap) {
    draws.fill(0);
    for (let i = 0; i < count; i++) draws[Math.floor(random() * count)]! += 1;
  } else draws.fill(1);
  let used = 0;
  for (let i = 0; i < count; i++) {
    const w = draws[i]!;
    if (w === 0) continue;
    index[used] = i;
    weight[used] = w;
    if (classes) label[used] = classes[i]!;
    else target[used] = targets![i]!;
    used++;
  }
  return used;
}

/**
 * A node's totals, `3 + classes` numbers: weight, then the sum and sum of squares of targets (regression),
 * then each class's weight (classification).
 */
export function addTotals(
  rows: NodeRows,
  start: number,
  end: number,
  classification: boolean,
  totals: Float64Array,
): void {
  const { weight, label, target } = rows;
  totals.fill(0);
  for (let p = start; p < end; p++) {
    const w = weight[p]!;
    totals[0]! += w;
    if (classification) totals[3 + label[p]!]! += w;
    else {
      const t = target[p]!;
      totals[1]! += w * t;
      totals[2]! += w * t * t;
    }
  }
}

/**
 * Splits positions [start, end) in place and in order: rows whose bin in `column` is ≤ `bin` first. Fills
 * both sides' totals and returns the first right-hand position.
 */
export function partitionClasses(
  rows: NodeRows,
  bins: Uint8Array,
  column: number,
  bin: number,
  start: number,
  end: number,
  classes: number,
  totals: Float64Array,
  left: Float64Array,
  right: Float64Array,
): number {
  const { index, weight, label, spareIndex, spareWeight, spareLabel } = rows;
  left.fill(0);
  let at = start;
  let spare = 0;
  let leftWeight = 0;
  for (let p = start; p < end; p++) {
    const row = index[p]!;
    const w = weight[p]!;
    const k = label[p]!;
    if (bins[column + row]! <= bin) {
      index[at] = row;
      weight[at] = w;
      label[at] = k;
      at++;
      leftWeight += w;
      left[3 + k]! += w;
    } else {
      spareIndex[spare] = row;
      spareWeight[spare] = w;
      spareLabel[spare] = k;
      spare++;
    }
  }
  for (let s = 0; s < spare; s++) {
    index[at + s] = spareIndex[s]!;
    weight[at + s] = spareWeight[s]!;
    label[at + s] = spareLabel[s]!;
  }
  // Class weights are whole numbers: the right side's are exact differences.
  right.fill(0);
  left[0] = leftWeight;
  right[0] = totals[0]! - leftWeight;
  for (let k = 3; k < 3 + classes; k++) right[k] = totals[k]! - left[k]!;
  return at;
}

/** As partitionClasses, for regression: each side's sums are added up from its own rows. */
export function partitionTargets(
  rows: NodeRows,
  bins: Uint8Array,
  column: number,
  bin: number,
  start: number,
  end: number,
  left: Float64Array,
  right: Float64Array,
): number {
  const { index, weight, target, spareIndex, spareWeight, spareTarget } = rows;
  let at = start;
  let spare = 0;
  let leftWeight = 0;
  let leftSum = 0;
  let leftSquares = 0;
  let rightWeight = 0;
  let rightSum = 0;
  let rightSquares = 0;
  for (let p = start; p < end; p++) {
    const row = index[p]!;
    const w = weight[p]!;
    const t = target[p]!;
    if (bins[column + row]! <= bin) {
      index[at] = row;
      weight[at] = w;
      target[at] = t;
      at++;
      leftWeight += w;
      leftSum += w * t;
      leftSquares += w * t * t;
    } else {
      spareIndex[spare] = row;
      spareWeight[spare] = w;
      spareTarget[spare] = t;
      spare++;
      rightWeight += w;
      rightSum += w * t;
      rightSquares += w * t * t;
    }
  }
  for (let s = 0; s < spare; s++) {
    index[at + s] = spareIndex[s]!;
    weight[at + s] = spareWeight[s]!;
    target[at + s] = spareTarget[s]!;
  }
  left.fill(0);
  right.fill(0);
  left[0] = leftWeight;
  left[1] = leftSum;
  left[2] = leftSquares;
  right[0] = rightWeight;
  right[1] = rightSum;
  right[2] = rightSquares;
  return at;
}
