import { seededRandom } from "../shared/random.ts";

export type Activation = "relu" | "tanh";

/** A multilayer perceptron on Float32Arrays: weights[l] is [inputs × outputs], row-major. */
export interface Mlp {
  sizes: number[];
  activation: Activation;
  weights: Float32Array[];
  biases: Float32Array[];
}

export function createMlp(sizes: number[], activation: Activation, seed: number): Mlp {
  const random = seededRandom(seed);
  const weights: Float32Array[] = [];
  const biases: Float32Array[] = [];
  for (let l = 0; l < sizes.length - 1; l++) {
    const fanIn = sizes[l]!;
    const fanOut = sizes[l + 1]!;
    // He initialisation for ReLU, Glorot for tanh; uniform with the matching variance.
    const limit = activation === "relu" ? Math.sqrt(6 / fanIn) : Math.sqrt(6 / (fanIn + fanOut));
    weights.push(Float32Array.from({ length: fanIn * fanOut }, () => (random() * 2 - 1) * limit));
    biases.push(new Float32Array(fanOut));
  }
  return { sizes, activation, weights, biases };
}

export interface TrainingBatchSource {
  /** Standardised features, rows × inputs. */
  x: Float32Array;
  rows: number;
  /** Class indexes (classification) or standardised targets (regression). */
  y: Uint8Array | Float32Array;
  classification: boolean;
}

export interface EpochOptions {
  learningRate: number;
  batchSize: number;
  seed: number;
}

/** Adam's moment estimates, one per weight and bias array. */
export interface Optimizer {
  m: Float32Array[];
  v: Float32Array[];
  step: number;
}

export function createOptimizer(mlp: Mlp): Optimizer {
  const shapes = [...mlp.weights, ...mlp.biases];
  return {
    m: shapes.map((a) => new Float32Array(a.length)),
    v: shapes.map((a) => new Float32Array(a.length)),
    step: 0,
  };
}

/** One pass over the data in shuffled mini-batches; returns the mean loss. */
export function trainEpoch(
  mlp: Mlp,
  optimizer: Optimizer,
  data: TrainingBatchSource,
  options: EpochOptions,
  epoch: number,
): number {
  const random = seededRandom(options.seed + epoch * 7919);
  const order = Uint32Array.from({ length: data.rows }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  const layers = mlp.weights.length;
  const inputs = mlp.sizes[0]!;
  let lossSum = 0;
  for (let start = 0; start < data.rows; start += options.batchSize) {
    const batch = Math.min(options.batchSize, data.rows - start);
    const activations: Float32Array[] = [new Float32Array(batch * inputs)];
    for (let r = 0; r < batch; r++)
      activations[0]!.set(data.x.subarray(order[start + r]! * inputs, (order[start + r]! + 1) * inputs), r * inputs);
    for (let l = 0; l < layers; l++) activations.push(layerForward(mlp, l, activations[l]!, batch, l < layers - 1));
    const outputs = mlp.sizes[layers]!;
    const output = activations[layers]!;
    // Gradient of the loss with respect to the last layer's pre-activation.
    let delta = new Float32Array(batch * outputs);
    for (let r = 0; r < batch; r++) {
      const row = order[start + r]!;
      if (data.classification) {
        softmaxInPlace(output, r * outputs, outputs);
        const label = (data.y as Uint8Array)[row]!;
        lossSum -= Math.log(Math.max(output[r * outputs + label]!, 1e-12));
        for (let k = 0; k < outputs; k++)
          delta[r * outputs + k] = (output[r * outputs + k]! - (k === label ? 1 : 0)) / batch;
      } else {
        const error = output[r]! - (data.y as Float32Array)[row]!;
        lossSum += 0.5 * error * error;
        delta[r] = error / batch;
      }
    }
    const gradients: Float32Array[] = new Array(layers * 2);
    for (let l = layers - 1; l >= 0; l--) {
      const fanIn = mlp.sizes[l]!;
      const fanOut = mlp.sizes[l + 1]!;
      const input = activations[l]!;
      const gradW = new Float32Array(fanIn * fanOut);
      const gradB = new Float32Array(fanOut);
      for (let r = 0; r < batch; r++) {
        for (let o = 0; o < fanOut; o++) {
          const d = delta[r * fanOut + o]!;
          if (d === 0) continue;
          gradB[o]! += d;
          for (let i = 0; i < fanIn; i++) gradW[i * fanOut + o]! += input[r * fanIn + i]! * d;
        }
      }
      gradients[l] = gradW;
      gradients[layers + l] = gradB;
      if (l === 0) break;
      const previous = new Float32Array(batch * fanIn);
      const weights = mlp.weights[l]!;
      for (let r = 0; r < batch; r++) {
        for (let i = 0; i < fanIn; i++) {
          let sum = 0;
          for (let o = 0; o < fanOut; o++) sum += delta[r * fanOut + o]! * weights[i * fanOut + o]!;
          const a = input[r * fanIn + i]!;
          previous[r * fanIn + i] = sum * (mlp.activation === "relu" ? (a > 0 ? 1 : 0) : 1 - a * a);
        }
      }
      delta = previous;
    }
    adamStep([...mlp.weights, ...mlp.biases], gradients, optimizer, options.learningRate);
  }
  return lossSum / data.rows;
}

function layerForward(mlp: Mlp, l: number, input: Float32Array, rows: number, hidden: boolean): Float32Array {
  const fanIn = mlp.sizes[l]!;
  const fanOut = mlp.sizes[l + 1]!;
  const weights = mlp.weights[l]!;
  const bias = mlp.biases[l]!;
  const out = new Float32Array(rows * fanOut);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < fanOut; o++) out[r * fanOut + o] = bias[o]!;
    for (let i = 0; i < fanIn; i++) {
      const a = input[r * fanIn + i]!;
      if (a === 0) continue;
      for (let o = 0; o < fanOut; o++) out[r * fanOut + o]! += a * weights[i * fanOut + o]!;
    }
    if (hidden) {
      for (let o = 0; o < fanOut; o++) {
        const z = out[r * fanOut + o]!;
        // biome-ignore lint/complexity/useMathMinMax: ReLU turns a NaN into 0, where Math.max would pass it on.
        out[r * fanOut + o] = mlp.activation === "relu" ? (z > 0 ? z : 0) : Math.tanh(z);
      }
    }
  }
  return out;
}

function softmaxInPlace(values: Float32Array, offset: number, count: number): void {
  let max = -Infinity;
  for (let k = 0; k < count; k++) max = Math.max(max, values[offset + k]!);
  let sum = 0;
  for (let k = 0; k < count; k++) {
    const e = Math.exp(values[offset + k]! - max);
    values[offset + k] = e;
    sum += e;
  }
  for (let k = 0; k < count; k++) values[offset + k]! /= sum;
}

function adamStep(
  parameters: Float32Array[],
  gradients: Float32Array[],
  optimizer: Optimizer,
  learningRate: number,
): void {
  optimizer.step++;
  const beta1 = 0.9;
  const beta2 = 0.999;
  const correction1 = 1 - beta1 ** optimizer.step;
  const correction2 = 1 - beta2 ** optimizer.step;
  parameters.forEach((parameter, p) => {
    const gradient = gradients[p]!;
    const m = optimizer.m[p]!;
    const v = optimizer.v[p]!;
    for (let i = 0; i < parameter.length; i++) {
      const g = gradient[i]!;
      m[i] = beta1 * m[i]! + (1 - beta1) * g;
      v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
      parameter[i]! -= (learningRate * (m[i]! / correction1)) / (Math.sqrt(v[i]! / correction2) + 1e-8);
    }
  });
}

/** Outputs for rows of standardised features: class probabilities, or standardised targets. */
export function predictMlp(mlp: Mlp, x: Float32Array, rows: number, classification: boolean): Float32Array {
  let activation = x;
  const layers = mlp.weights.length;
  for (let l = 0; l < layers; l++) activation = layerForward(mlp, l, activation, rows, l < layers - 1);
  if (classification) {
    const outputs = mlp.sizes[layers]!;
    for (let r = 0; r < rows; r++) softmaxInPlace(activation, r * outputs, outputs);
  }
  return activation;
}
