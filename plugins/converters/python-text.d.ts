// Python helpers are imported as text (`with { type: "text" }`), so that a compiled binary carries them.
declare module "*.py" {
  const text: string;
  export default text;
}
