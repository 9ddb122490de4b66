/** Share of rows whose predicted class is the true one. */
export function accuracy(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let right = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === predicted[i]) right++;
  return truth.length ? right / truth.length : 0;
}

/**
 * F1 averaged over classes with equal weight (scikit-learn's `average="macro"`), over classes seen in truth or
 * prediction.
 */
export function macroF1(truth: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): number {
  const tp = new Float64Array(classes);
  const fp = new Float64Array(classes);
  const fn = new Float64Array(classes);
  for (let i = 0; i < truth.length; i++) {
    if (truth[i] === predicted[i]) tp[truth[i]!]!++;
    else {
      fp[predicted[i]!]!++;
      fn[truth[i]!]!++;
    }
  }
  let sum = 0;
  let seen = 0;
  for (let k = 0; k < classes; k++) {
    if (tp[k]! + fp[k]! + fn[k]! === 0) continue;
    seen++;
    sum += (2 * tp[k]!) / (2 * tp[k]! + fp[k]! + fn[k]!);
  }
  return seen ? sum / seen : 0;
}

export function rmse(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < truth.length; i++) sum += (truth[i]! - predicted[i]!) ** 2;
  return Math.sqrt(sum / Math.max(1, truth.length));
}

export function r2(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < truth.length; i++) mean += truth[i]!;
  mean /= Math.max(1, truth.length);
  let residual = 0;
  let total = 0;
  for (let i = 0; i < truth.length; i++) {
    residual += (truth[i]! - predicted[i]!) ** 2;
    total += (truth[i]! - mean) ** 2;
  }
  return total === 0 ? 0 : 1 - residual / total;
}

/** Index of the largest score in each row (the first on ties, like ONNX ArgMax). */
export function argmaxRows(scores: Float32Array, rows: number, columns: number): Int32Array {
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let k = 1; k < columns; k++) if (scores[i * columns + k]! > scores[i * columns + best]!) best = k;
    labels[i] = best;
  }
  return labels;
}
