import { describe, expect, test } from "bun:test";
import * as ort from "onnxruntime-node";
import { type ForestDump, float32AtMost, forestOfDump } from "../../plugins/converters/scikit-learn/forest-dump.ts";
import { forestToOnnx } from "../../plugins/strategies/random-forest/onnx-export.ts";

/** One stump on feature 0, as dump_forest.py writes it: class 0 on the left, class 1 on the right. */
function stump(threshold: number, extra: Partial<ForestDump["trees"][number]> = {}): ForestDump {
  return {
    estimator: "RandomForestClassifier",
    sklearn: "1.2.1",
    task: "classification",
    n_features: 1,
    classes: ["left", "right"],
    trees: [
      {
        children_left: [1, -1, -1],
        children_right: [2, -1, -1],
        feature: [0, -2, -2],
        threshold: [threshold, -2, -2],
        value: [0.5, 0.5, 1, 0, 0, 1],
        ...extra,
      },
    ],
  };
}

async function labels(dump: ForestDump, x: number[]): Promise<number[]> {
  const session = await ort.InferenceSession.create(forestToOnnx(forestOfDump(dump), {}));
  try {
    const { label } = await session.run({ features: new ort.Tensor("float32", Float32Array.from(x), [x.length, 1]) });
    return Array.from(label!.data as BigInt64Array, Number);
  } finally {
    await session.release();
  }
}

describe("a scikit-learn tree dump in ONNX Runtime", () => {
  test("a float64 threshold between two float32 values sends each of them the way scikit-learn does", async () => {
    // Three quarters of the way from 1 to the next float32 up: to nearest, the threshold would become that float32.
    const above = Math.fround(1 + 2 ** -23);
    const threshold = 1 + 0.75 * 2 ** -23;
    expect(Math.fround(threshold)).toBe(above);
    expect(float32AtMost(threshold)).toBe(1);
    // scikit-learn: x <= threshold in float64, so 1 goes left and `above` right.
    expect(await labels(stump(threshold), [1, above])).toEqual([0, 1]);
    for (const value of [0.5, -0.1, 1e-50, -1e-50, 3.3e38]) {
      const down = float32AtMost(value);
      expect({ value, fits: Math.fround(down) === down && down <= value }).toEqual({ value, fits: true });
    }
    expect(float32AtMost(-1e-50)).toBe(-(2 ** -149));
  });

  test("missing values go the side scikit-learn 1.3+ learned for them", async () => {
    expect(await labels(stump(0.5), [Number.NaN, 0.2, 0.8])).toEqual([1, 0, 1]);
    expect(await labels(stump(0.5, { missing_go_to_left: [1, 0, 0] }), [Number.NaN, 0.2, 0.8])).toEqual([0, 0, 1]);
  });

  test("arrays that do not fit together are refused before any model is built", () => {
    expect(() => forestOfDump(stump(0.5, { value: [1, 0] }))).toThrow(
      "tree 0: its arrays do not have one entry per node",
    );
    expect(() => forestOfDump({ ...stump(0.5), n_features: 0 })).toThrow("tree 0 splits on a feature past 0");
  });
});
