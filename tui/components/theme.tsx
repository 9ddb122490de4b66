import { createContext, useContext } from "react";

/** Colour on or off (NO_COLOR, monochrome terminals); components ask here instead of naming colours outright. */
export const ColorContext = createContext(true);

export function useColor(): (name: string) => string | undefined {
  const enabled = useContext(ColorContext);
  return (name) => (enabled ? name : undefined);
}

export function colorWanted(
  stream: { hasColors?: () => boolean; isTTY?: boolean },
  env: Record<string, string | undefined>,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR) return true;
  return Boolean(stream.isTTY && (stream.hasColors?.() ?? true));
}
