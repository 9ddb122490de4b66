/**
 * Checks that scripts/format-all.sh changed only the look of the code: `bun scripts/same-compiled-code.ts
 * BEFORE_DIR` compiles each .ts/.tsx file as it was (in BEFORE_DIR) and as it is now, and lists the files
 * whose code differs. Ignored: layout, how a string is cut into `+` pieces or template parts, JSX text cut
 * into pieces, the order and kind of imports. Caught: any change to a string's text (JSX text included),
 * to an expression or to a statement. Exits 1 when a file differs.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

const before = process.argv[2];
if (!before) throw new Error("usage: bun scripts/same-compiled-code.ts BEFORE_DIR");

const isString = (node: ts.Node) => ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node);
const isPlus = (node: ts.Node): node is ts.BinaryExpression =>
  ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken;

/** Whether `+` joins strings here (JavaScript adds left to right: `1 + 2 + "x"` is "3x"). */
function joinsStrings(node: ts.Node): boolean {
  if (isString(node) || ts.isTemplateExpression(node)) return true;
  return isPlus(node) && (joinsStrings(node.left) || joinsStrings(node.right));
}

/** The pieces of a string built by `+` and templates: literal text and expressions, in order. */
function pieces(node: ts.Expression): Array<string | ts.Expression> {
  if (isString(node)) return [(node as ts.StringLiteral).text];
  if (ts.isNumericLiteral(node)) return [String(Number(node.text))]; // a number joined to a string is its text
  if (ts.isParenthesizedExpression(node) && joinsStrings(node.expression)) return pieces(node.expression);
  if (ts.isTemplateExpression(node))
    return [node.head.text, ...node.templateSpans.flatMap((span) => [...pieces(span.expression), span.literal.text])];
  if (isPlus(node) && joinsStrings(node)) return [...pieces(node.left), ...pieces(node.right)];
  return [node];
}

/** A string literal, or a call `__text("literal", expression, …)`; neighbouring literals merged, empty ones gone. */
function joined(parts: Array<string | ts.Expression>, visit: (node: ts.Node) => ts.Node | undefined): ts.Expression {
  const merged: Array<string | ts.Expression> = [];
  for (const part of parts) {
    if (typeof part === "string" && typeof merged.at(-1) === "string") merged[merged.length - 1] += part;
    else if (part !== "") merged.push(part);
  }
  if (merged.length === 0) return ts.factory.createStringLiteral("");
  if (merged.length === 1 && typeof merged[0] === "string") return ts.factory.createStringLiteral(merged[0]);
  const args = merged.map((part) =>
    typeof part === "string" ? ts.factory.createStringLiteral(part) : (visit(part) as ts.Expression),
  );
  return ts.factory.createCallExpression(ts.factory.createIdentifier("__text"), undefined, args);
}

/** JSX children (`children: ["a ", "b"]`) with neighbouring strings merged: Ink prints them as one text. */
function mergedChildren(node: ts.ArrayLiteralExpression, visit: (node: ts.Node) => ts.Node | undefined): ts.Node {
  const elements: ts.Expression[] = [];
  for (const element of node.elements.map((one) => visit(one) as ts.Expression)) {
    const last = elements.at(-1);
    if (last && ts.isStringLiteral(last) && ts.isStringLiteral(element))
      elements[elements.length - 1] = ts.factory.createStringLiteral(last.text + element.text);
    else elements.push(element);
  }
  return ts.factory.createArrayLiteralExpression(elements);
}

/** The compiled code in a form where only what it does shows. */
function normalised(source: string, tsx: boolean): string {
  const transpiler = new Bun.Transpiler({ loader: tsx ? "tsx" : "ts", minifyWhitespace: true, target: "bun" });
  const compiled = transpiler.transformSync(source);
  const file = ts.createSourceFile("x.js", compiled, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const transform: ts.TransformerFactory<ts.SourceFile> = (context) => {
    const visit = (node: ts.Node): ts.Node | undefined => {
      if (ts.isTaggedTemplateExpression(node)) return node; // String.raw`…` and the like keep their exact form
      if (ts.isImportDeclaration(node)) return node.importClause ? undefined : node;
      if (
        ts.isPropertyAssignment(node) &&
        ts.isIdentifier(node.name) &&
        node.name.text === "children" &&
        ts.isArrayLiteralExpression(node.initializer)
      )
        return ts.factory.updatePropertyAssignment(
          node,
          node.name,
          mergedChildren(node.initializer, visit) as ts.Expression,
        );
      if (isString(node) || ts.isTemplateExpression(node) || (isPlus(node) && joinsStrings(node)))
        return joined(pieces(node as ts.Expression), visit);
      return ts.visitEachChild(node, visit, context);
    };
    return (root) => ts.visitNode(root, visit) as ts.SourceFile;
  };
  const [result] = ts.transform(file, [transform]).transformed;
  return ts.createPrinter({ removeComments: true }).printFile(result!);
}

const files = [...new Bun.Glob("**/*.{ts,tsx}").scanSync(before)].filter((file) => existsSync(file));
const differ: string[] = [];
for (const file of files) {
  const tsx = file.endsWith(".tsx");
  let was: string;
  let now: string;
  try {
    was = normalised(readFileSync(join(before, file), "utf8"), tsx);
    now = normalised(readFileSync(file, "utf8"), tsx);
  } catch (error) {
    differ.push(`${file}: does not compile: ${(error as Error).message}`);
    continue;
  }
  if (was === now) continue;
  let at = 0;
  while (was[at] === now[at]) at++;
  const around = (text: string) => text.slice(Math.max(0, at - 60), at + 60).replace(/\n/g, "⏎");
  differ.push(`${file}: the code changed\n  was: …${around(was)}…\n  now: …${around(now)}…`);
}
console.log(`same-compiled-code: ${files.length - differ.length} of ${files.length} files compile as before`);
if (differ.length > 0) {
  console.error(differ.join("\n"));
  process.exit(1);
}
