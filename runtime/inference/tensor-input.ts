import { EdgetrainError } from "../errors.ts";
import {
  type Dimension,
  isNumericType,
  type ModelSignature,
  type NumericType,
  shapeText,
  type TensorSpec,
} from "./model-signature.ts";

/** A tensor as a request gives it: nested arrays, or flat `data` with its `shape`. */
export type TensorValue = unknown;

/** A checked input, ready to become an ONNX Runtime tensor. */
export interface InputTensor {
  type: NumericType;
  dims: number[];
  data:
    | Float32Array
    | Float64Array
    | Int8Array
    | Uint8Array
    | Int16Array
    | Uint16Array
    | Int32Array
    | Uint32Array
    | BigInt64Array
    | BigUint64Array
    | boolean[];
}

export type Feeds = Record<string, InputTensor>;

/**
 * Checks tensors given by input name against what the model declares (every input present, no other,
 * element type, rank, fixed sizes, one size per symbolic dimension) and builds them; `field` prefixes
 * the names in messages (`inputs.image`). A bad one is a 400 naming the input, never a runtime error.
 */
export function toFeeds(
  given: Record<string, TensorValue>,
  signature: ModelSignature,
  model: string,
  field: string,
  maxRows: number,
): { feeds: Feeds; rows: number } {
  const names = signature.inputs.map((input) => input.name);
  const unknown = Object.keys(given).find((name) => !names.includes(name));
  if (unknown !== undefined)
    throw badInput(`${field}.${unknown}`, `model ${model} has no input "${unknown}" (inputs: ${names.join(", ")})`);
  const symbols = new Map<string, number>();
  const feeds: Feeds = {};
  for (const spec of signature.inputs) {
    const value = given[spec.name];
    if (value === undefined)
      throw badInput(
        `${field}.${spec.name}`,
        `missing: model ${model} takes ${signature.inputs.map(describeInput).join(", ")}`,
      );
    feeds[spec.name] = tensorOf(value, spec, `${field}.${spec.name}`, model, symbols);
  }
  const rows = batchRows(signature, feeds);
  if (rows > maxRows) throw badInput(field, `${rows} rows, more than the ${maxRows} allowed in one request`);
  return { feeds, rows };
}

/** The rows of a request: the first dimension of the first input when the model leaves it open, else 1. */
function batchRows(signature: ModelSignature, feeds: Feeds): number {
  const first = signature.inputs[0];
  if (!first) return 1;
  return typeof first.shape[0] === "number" ? 1 : (feeds[first.name]?.dims[0] ?? 1);
}

export function describeInput(spec: TensorSpec): string {
  return `${spec.name} (${spec.type} ${shapeText(spec.shape)})`;
}

/** One row of zeros in each declared input, the symbolic dimensions as 1: proves that a model loads and answers. */
export function zeroTensors(signature: ModelSignature): Record<string, TensorValue> {
  return Object.fromEntries(
    signature.inputs.map((input) => {
      const shape = input.shape.map((d) => (typeof d === "number" && d > 0 ? d : 1));
      return [input.name, { data: new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(0), shape }];
    }),
  );
}

function tensorOf(
  value: TensorValue,
  spec: TensorSpec,
  field: string,
  model: string,
  symbols: Map<string, number>,
): InputTensor {
  if (!isNumericType(spec.type))
    throw badInput(field, `model ${model} takes ${spec.type} here, which JSON requests cannot give`);
  const { flat, dims } = isFlatForm(value) ? flatForm(value, field) : nested(value, field);
  if (spec.shape.length && dims.length !== spec.shape.length) {
    throw badInput(
      field,
      `a tensor of rank ${dims.length} ${shapeText(dims)}; model ${model} takes ${describeInput(spec)}`,
    );
  }
  spec.shape.forEach((want: Dimension, axis) => {
    const got = dims[axis]!;
    if (typeof want === "number" && want >= 0 && got !== want)
      throw badInput(field, `dimension ${axis} is ${got}; model ${model} takes ${describeInput(spec)}`);
    if (typeof want !== "string" || want === "") return;
    const seen = symbols.get(want);
    if (seen === undefined) symbols.set(want, got);
    else if (seen !== got)
      throw badInput(
        field,
        `dimension ${axis} (${want}) is ${got}, but ${seen} in an input before: all inputs share ${want}`,
      );
  });
  if (dims.some((d) => d === 0))
    throw badInput(field, `an empty tensor ${shapeText(dims)}: at least one value is needed`);
  return { type: spec.type, dims, data: typedData(flat, spec.type, field) };
}

function isFlatForm(value: TensorValue): value is { data: unknown; shape: unknown } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "data" in value;
}

/** `{data, shape}`: the data may itself be nested (the Open Inference Protocol allows both); its count must fit. */
function flatForm(value: { data: unknown; shape: unknown }, field: string): { flat: unknown[]; dims: number[] } {
  const { shape } = value;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw badInput(`${field}.shape`, "a list of whole numbers, the size of each dimension");
  if (!Array.isArray(value.data)) throw badInput(`${field}.data`, "a list of values");
  const flat = (value.data as unknown[]).flat(Infinity);
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  if (flat.length !== count)
    throw badInput(`${field}.data`, `${flat.length} values, but shape ${shapeText(shape as number[])} holds ${count}`);
  return { flat, dims: shape as number[] };
}

/** Nested arrays, checked to be rectangular: every row of a dimension the same length. */
function nested(value: TensorValue, field: string): { flat: unknown[]; dims: number[] } {
  const dims: number[] = [];
  for (let probe: unknown = value; Array.isArray(probe); probe = probe[0]) dims.push(probe.length);
  const flat: unknown[] = [];
  const walk = (node: unknown, depth: number, path: string): void => {
    if (depth === dims.length) {
      if (Array.isArray(node))
        throw badInput(path, `nested deeper than the first values, which are ${dims.length} deep`);
      flat.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== dims[depth]) {
      throw badInput(
        path,
        `${Array.isArray(node) ? `${node.length} values` : "a single value"} where the tensor has ${dims[depth]} ` +
          `(not rectangular)`,
      );
    }
    node.forEach((child, i) => walk(child, depth + 1, `${path}[${i}]`));
  };
  walk(value, 0, field);
  return { flat, dims };
}

const INTEGER_RANGES: Partial<Record<NumericType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

function typedData(flat: unknown[], type: NumericType, field: string): InputTensor["data"] {
  if (type === "bool") {
    return flat.map((value, i) => {
      if (typeof value === "boolean") return value;
      if (value === 0 || value === 1) return value === 1;
      throw badInput(`${field}[${i}]`, `true or false (got ${JSON.stringify(value)})`);
    });
  }
  const numbers = flat.map((value, i) => {
    if (typeof value !== "number" || !Number.isFinite(value))
      throw badInput(`${field}[${i}]`, `a finite number (got ${JSON.stringify(value)})`);
    const range = INTEGER_RANGES[type];
    if (range && (!Number.isInteger(value) || value < range[0] || value > range[1]))
      throw badInput(`${field}[${i}]`, `${value} is not a whole number of ${type}`);
    return value;
  });
  switch (type) {
    case "float32": {
      const data = Float32Array.from(numbers);
      const beyond = data.findIndex((x) => !Number.isFinite(x));
      if (beyond >= 0)
        throw badInput(
          `${field}[${beyond}]`,
          `${numbers[beyond]} is beyond the float32 range the model takes (±3.4e38)`,
        );
      return data;
    }
    case "float64":
      return Float64Array.from(numbers);
    case "int8":
      return Int8Array.from(numbers);
    case "uint8":
      return Uint8Array.from(numbers);
    case "int16":
      return Int16Array.from(numbers);
    case "uint16":
      return Uint16Array.from(numbers);
    case "int32":
      return Int32Array.from(numbers);
    case "uint32":
      return Uint32Array.from(numbers);
    case "int64":
      return BigInt64Array.from(numbers, BigInt);
    case "uint64":
      return BigUint64Array.from(numbers, BigInt);
  }
}

function badInput(field: string, message: string): EdgetrainError {
  return new EdgetrainError("bad_input", `${field}: ${message}`, { details: { field } });
}
