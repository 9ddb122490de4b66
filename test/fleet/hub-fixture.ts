import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { onnx } from "onnx-proto";
import { Hub, type HubOptions } from "../../runtime/fleet/hub/hub.ts";
import { silentLogger } from "../../runtime/log/logger.ts";

/** A hub on free ports in `home`, stopped at the end of the `await using` scope. */
export async function startHub(home: string, options: Partial<HubOptions> = {}): Promise<Hub & AsyncDisposable> {
  const hub = await Hub.start({ home, port: 0, brokerPort: 0, logger: silentLogger, ...options });
  return Object.assign(hub, { [Symbol.asyncDispose]: () => hub.stop() });
}

/** An ONNX file carrying edgetrain's metadata, as a trained model does; the hub reads nothing else of it. */
export function onnxFile(dir: string, name = "model.onnx", padding = 2000): string {
  const description = {
    task: "classification",
    feature_names: ["hr", "speed"],
    classes: ["rest", "run"],
    strategy: "test",
  };
  const bytes = onnx.ModelProto.encode({
    irVersion: 8,
    producerName: "test".repeat(padding / 4),
    metadataProps: [{ key: "edgetrain", value: JSON.stringify(description) }],
  }).finish();
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

/** Calls the hub's API with its token. */
// biome-ignore lint/suspicious/noExplicitAny: tests read the answers' fields directly; expect() checks them.
type Json = any;
export async function api(
  hub: Hub,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const response = await fetch(hub.url + path, {
    method,
    headers: {
      authorization: `Bearer ${hub.token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}
