import type { onnx } from "onnx-proto";
import { BRANCH_MODES, LEAF, LEQ, type TreeEnsemble } from "./tree-ensemble.ts";

/** What a graph output is made of: the ensemble's scores, or the index of each row's largest score. */
export type EnsembleOutput = { name: string; from: "scores" | "argmax"; dims: Array<number | string> };

/** A model whose whole graph is a tree ensemble, as serving runs it without ONNX Runtime. */
export interface TreeEnsembleModel {
  ensemble: TreeEnsemble;
  input: { name: string; dims: Array<number | string> };
  outputs: EnsembleOutput[];
}

type Attribute = onnx.IAttributeProto;
/** `onnx.TensorProto.DataType.FLOAT`, without loading onnx-proto's module for it. */
const FLOAT = 1;
type Int = number | { toNumber(): number };

/**
 * The model's tree ensemble, when its graph is only that: a float table in, a TreeEnsembleClassifier's
 * probabilities (raw scores, optionally with an ArgMax or Identity of them) or a TreeEnsembleRegressor's
 * sums or averages out. Anything else (post transforms, base values, two-class scores from one class's
 * weights, other operators) is undefined and left to ONNX Runtime, whose answers these match exactly.
 */
export function readTreeEnsemble(model: onnx.IModelProto): TreeEnsembleModel | undefined {
  const graph = model.graph;
  const input = graph?.input?.filter((value) => !graph.initializer?.some((init) => init.name === value.name));
  if (!graph || input?.length !== 1 || graph.initializer?.length) return undefined;
  const inputType = input[0]!.type?.tensorType;
  if (inputType?.elemType !== FLOAT || inputType.shape?.dim?.length !== 2) return undefined;
  const [first, ...rest] = graph.node ?? [];
  if (first?.domain !== "ai.onnx.ml" || first.input?.[0] !== input[0]!.name) return undefined;
  const attributes = new Map((first.attribute ?? []).map((a) => [a.name ?? "", a]));
  const scoresName = first.opType === "TreeEnsembleClassifier" ? first.output?.[1] : first.output?.[0];
  const ensemble =
    first.opType === "TreeEnsembleClassifier"
      ? classifier(attributes)
      : first.opType === "TreeEnsembleRegressor"
        ? regressor(attributes)
        : undefined;
  if (!ensemble || !scoresName) return undefined;
  const made = new Map<string, "scores" | "argmax">([[scoresName, "scores"]]);
  for (const node of rest) {
    const source = made.get(node.input?.[0] ?? "");
    const output = node.output?.[0];
    if (source !== "scores" || !output || node.input?.length !== 1 || (node.domain ?? "") !== "") return undefined;
    if (node.opType === "Identity" && !node.attribute?.length) made.set(output, "scores");
    else if (node.opType === "ArgMax" && isArgMaxOfRows(node.attribute ?? [])) made.set(output, "argmax");
    else return undefined;
  }
  const outputs: EnsembleOutput[] = [];
  for (const value of graph.output ?? []) {
    const from = made.get(value.name ?? "");
    if (!from) return undefined;
    outputs.push({ name: value.name!, from, dims: dimsOf(value.type?.tensorType?.shape?.dim ?? []) });
  }
  return { ensemble, input: { name: input[0]!.name!, dims: dimsOf(inputType.shape.dim) }, outputs };
}

function classifier(attributes: Map<string, Attribute>): TreeEnsemble | undefined {
  const classes = (attributes.get("classlabels_int64s")?.ints ?? attributes.get("classlabels_strings")?.strings ?? [])
    .length;
  const ids = ints(attributes, "class_ids");
  // ONNX Runtime reads a two-class ensemble with one class's weights as a score and its complement, and a
  // class no leaf votes for is left to it too.
  if (classes < 2 || new Set(ids).size !== classes) return undefined;
  return build(attributes, "class", classes, false);
}

function regressor(attributes: Map<string, Attribute>): TreeEnsemble | undefined {
  const aggregate = text(attributes, "aggregate_function") ?? "SUM";
  if (aggregate !== "SUM" && aggregate !== "AVERAGE") return undefined;
  return build(attributes, "target", Number(attributes.get("n_targets")?.i ?? 1), aggregate === "AVERAGE");
}

function build(
  attributes: Map<string, Attribute>,
  leaves: "class" | "target",
  targets: number,
  average: boolean,
): TreeEnsemble | undefined {
  const supported = new Set([
    ...["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes"],
    ...["nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true", "nodes_hitrates"],
    ...[`${leaves}_treeids`, `${leaves}_nodeids`, `${leaves}_ids`, `${leaves}_weights`],
    ...["classlabels_int64s", "classlabels_strings", "n_targets", "aggregate_function", "post_transform"],
    "base_values",
  ]);
  if ([...attributes.keys()].some((name) => !supported.has(name))) return undefined;
  if ((text(attributes, "post_transform") ?? "NONE") !== "NONE") return undefined;
  if ((attributes.get("base_values")?.floats ?? []).some((value) => value !== 0)) return undefined;
  const trees = ints(attributes, "nodes_treeids");
  const nodeIds = ints(attributes, "nodes_nodeids");
  const modes = (attributes.get("nodes_modes")?.strings ?? []).map(modeOf);
  const features = ints(attributes, "nodes_featureids");
  const values = attributes.get("nodes_values")?.floats ?? [];
  const trueIds = ints(attributes, "nodes_truenodeids");
  const falseIds = ints(attributes, "nodes_falsenodeids");
  const missing = ints(attributes, "nodes_missing_value_tracks_true");
  const count = trees.length;
  const lengths = [nodeIds, modes, features, values, trueIds, falseIds];
  if (!count || lengths.some((list) => list.length !== count) || (missing.length && missing.length !== count))
    return undefined;
  if (modes.some((mode) => mode < 0) || targets < 1) return undefined;
  // Numeric keys: a tree's node ids stay below 2^21 in any forest that fits in memory.
  if (trees.some((id, n) => id < 0 || id >= NODE_IDS || nodeIds[n]! < 0 || nodeIds[n]! >= NODE_IDS)) return undefined;
  const index = new Map<number, number>();
  for (let n = 0; n < count; n++) index.set(trees[n]! * NODE_IDS + nodeIds[n]!, n);
  if (index.size !== count) return undefined;
  const at = (tree: number, id: number) => index.get(tree * NODE_IDS + id) ?? -1;
  // Plain loops and array-like constructors: JavaScriptCore's TypedArray.from is several times slower.
  const trueNode = new Int32Array(count).fill(-1);
  const falseNode = new Int32Array(count).fill(-1);
  let minWidth = 0;
  for (let n = 0; n < count; n++) {
    if (modes[n] === LEAF) continue;
    trueNode[n] = at(trees[n]!, trueIds[n]!);
    falseNode[n] = at(trees[n]!, falseIds[n]!);
    if (trueNode[n]! < 0 || falseNode[n]! < 0 || features[n]! < 0) return undefined;
    minWidth = Math.max(minWidth, features[n]! + 1);
  }
  const roots = rootsOf(trees, nodeIds);
  if (!areTrees(roots, trueNode, falseNode, modes)) return undefined;
  const leafWeights = weightsByLeaf(attributes, leaves, at, count, targets);
  if (!leafWeights) return undefined;
  return {
    roots,
    feature: new Int32Array(features),
    threshold: new Float32Array(values),
    mode: new Uint8Array(modes),
    trueNode,
    falseNode,
    missingTrue: missing.length ? new Uint8Array(missing) : new Uint8Array(count),
    ...leafWeights,
    targets,
    average,
    minWidth,
    plainLeq: modes.every((mode) => mode === LEAF || mode === LEQ) && !missing.some((tracks) => tracks !== 0),
  };
}

/** Whether each root reaches every node under it once: a node met twice (a cycle) would hang the walk. */
function areTrees(roots: Int32Array, trueNode: Int32Array, falseNode: Int32Array, modes: number[]): boolean {
  const seen = new Uint8Array(modes.length);
  const stack = Array.from(roots);
  while (stack.length) {
    const node = stack.pop()!;
    if (seen[node]) return false;
    seen[node] = 1;
    if (modes[node] !== LEAF) stack.push(trueNode[node]!, falseNode[node]!);
  }
  return true;
}

/** Each leaf's weights, side by side in the order the model lists them. */
function weightsByLeaf(
  attributes: Map<string, Attribute>,
  leaves: "class" | "target",
  at: (tree: number, id: number) => number,
  count: number,
  targets: number,
): Pick<TreeEnsemble, "leafStart" | "weightTarget" | "weightValue"> | undefined {
  const trees = ints(attributes, `${leaves}_treeids`);
  const nodes = ints(attributes, `${leaves}_nodeids`);
  const ids = ints(attributes, `${leaves}_ids`);
  const weights = attributes.get(`${leaves}_weights`)?.floats ?? [];
  if ([nodes, ids, weights].some((list) => list.length !== trees.length)) return undefined;
  const owner = new Int32Array(trees.length);
  for (let w = 0; w < trees.length; w++) {
    owner[w] = at(trees[w]!, nodes[w]!);
    if (owner[w]! < 0 || ids[w]! < 0 || ids[w]! >= targets) return undefined;
  }
  const leafStart = new Int32Array(count + 1);
  for (const node of owner) leafStart[node + 1]!++;
  for (let n = 0; n < count; n++) leafStart[n + 1]! += leafStart[n]!;
  const next = leafStart.slice(0, count);
  const weightTarget = new Int32Array(trees.length);
  const weightValue = new Float32Array(trees.length);
  owner.forEach((node, w) => {
    const slot = next[node]!++;
    weightTarget[slot] = ids[w]!;
    weightValue[slot] = weights[w]!;
  });
  return { leafStart, weightTarget, weightValue };
}

/** The node with the lowest id of each tree, the trees taken in the order of their ids. */
function rootsOf(trees: number[], nodeIds: number[]): Int32Array {
  const roots = new Map<number, number>();
  trees.forEach((tree, n) => {
    const seen = roots.get(tree);
    if (seen === undefined || nodeIds[n]! < nodeIds[seen]!) roots.set(tree, n);
  });
  return new Int32Array([...roots.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n));
}

function isArgMaxOfRows(attributes: Attribute[]): boolean {
  const value = (name: string, fallback: number) => Number(attributes.find((a) => a.name === name)?.i ?? fallback);
  const known = attributes.every((a) => ["axis", "keepdims", "select_last_index"].includes(a.name ?? ""));
  return known && value("axis", 0) === 1 && value("keepdims", 1) === 0 && value("select_last_index", 0) === 0;
}

function dimsOf(dims: onnx.TensorShapeProto.IDimension[]): Array<number | string> {
  return dims.map((dim) =>
    dim.dimValue !== undefined && dim.dimValue !== null ? Number(dim.dimValue) : (dim.dimParam ?? ""),
  );
}

/** An int64 list as numbers: read-onnx-graph.ts gives them so already, onnx-proto's decoder as Long objects. */
function ints(attributes: Map<string, Attribute>, name: string): number[] {
  const list: Int[] = attributes.get(name)?.ints ?? [];
  if (typeof list[0] !== "object") return list as number[];
  return list.map((value) => (typeof value === "number" ? value : value.toNumber()));
}

const decoder = new TextDecoder();

function text(attributes: Map<string, Attribute>, name: string): string | undefined {
  const value = attributes.get(name)?.s;
  return value ? decoder.decode(value) : undefined;
}

const NODE_IDS = 2 ** 21;

const ENCODED_MODES = BRANCH_MODES.map((mode) => new TextEncoder().encode(mode));

/** A node's mode as an index into BRANCH_MODES (-1: unknown), by its bytes: one per node, no string made. */
function modeOf(bytes: Uint8Array): number {
  next: for (let m = 0; m < ENCODED_MODES.length; m++) {
    const mode = ENCODED_MODES[m]!;
    if (mode.length !== bytes.length) continue;
    for (let i = 0; i < mode.length; i++) if (mode[i] !== bytes[i]) continue next;
    return m;
  }
  return -1;
}
