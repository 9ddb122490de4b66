import { Text } from "ink";
import { useColor } from "./theme.tsx";

/** The filter of a list screen: being typed (with a cursor), or kept. */
export function FilterLine({ text, editing }: { text: string; editing: boolean }) {
  const color = useColor();
  return (
    <Text wrap="truncate">
      <Text color={color("cyan")}>/{text}</Text>
      {editing ? <Text inverse> </Text> : null}
      <Text dimColor>{editing ? "  Enter keep · Esc clear" : "  / change · Esc clear"}</Text>
    </Text>
  );
}

/** What an empty list says: that the filter left nothing, or `none` when there is nothing to filter. */
export function EmptyList({ filter, none }: { filter?: string; none: string }) {
  return <Text dimColor>{filter ? `nothing matches /${filter} · Esc clears the filter` : none}</Text>;
}
