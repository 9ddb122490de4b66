import { type AddressInfo, createServer } from "node:net";
import { Aedes } from "aedes";

export interface EmbeddedBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * An MQTT broker inside the hub (aedes), on loopback, so that `edgetrain hub` works alone on a fresh
 * machine. Its sessions and retained messages live in memory: a fleet that must outlive hub restarts
 * points the hub and its devices at Mosquitto or EMQX (--broker).
 */
export async function startEmbeddedBroker(host = "127.0.0.1", port = 1883): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://${host}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()));
      }),
  };
}
