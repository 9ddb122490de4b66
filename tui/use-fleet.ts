import { useEffect, useState } from "react";
import type {
  ErrorBody,
  FleetDevice,
  FleetDeviceList,
  FleetRollout,
  FleetRolloutList,
} from "../runtime/api/contract.ts";
import type { Connection, LinkState } from "./connection.ts";

export interface FleetSnapshot {
  link: LinkState;
  /** The last error, in words. */
  error?: string;
  devices: FleetDevice[];
  rollouts: FleetRollout[];
}

/** The hub's devices and rollouts, polled every `refreshMs` from its API (`edgetrain hub`), as curl would. */
export function useFleet(connection: Connection, refreshMs = 2000): FleetSnapshot {
  const [snapshot, setSnapshot] = useState<FleetSnapshot>({ link: "connecting", devices: [], rollouts: [] });
  // biome-ignore lint/correctness/useExhaustiveDependencies: restarts only for another hub; the token is read anew.
  useEffect(() => {
    let stopped = false;
    const get = async <T>(path: string): Promise<T> => {
      const token = connection.readToken?.() ?? connection.token;
      const response = await fetch(connection.url + path, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        signal: AbortSignal.timeout(5000),
      });
      const body = (await response.json()) as T | ErrorBody;
      if (!response.ok) throw new Error((body as ErrorBody).message ?? `the hub answered HTTP ${response.status}`);
      return body as T;
    };
    const poll = async () => {
      try {
        const [devices, rollouts] = await Promise.all([
          get<FleetDeviceList>("/v1/fleet/devices"),
          get<FleetRolloutList>("/v1/fleet/rollouts"),
        ]);
        if (!stopped) setSnapshot({ link: "live", devices: devices.devices, rollouts: rollouts.rollouts });
      } catch (error) {
        if (!stopped)
          setSnapshot((previous) => ({
            ...previous,
            link: previous.link === "connecting" ? "connecting" : "reconnecting",
            error: (error as Error).message,
          }));
      }
    };
    void poll();
    const timer = setInterval(() => void poll(), refreshMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [connection.url, refreshMs]);
  return snapshot;
}
