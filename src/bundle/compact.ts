/**
 * A module's text without its comments and indentation, for the CLI bundle (build.ts):
 * about a third of tsc's output is comments, and every run reads the bundle's text and
 * keeps it in memory (V8 compiles a function that is not in the code cache from it).
 *
 * Only what lies between two tokens changes, as TypeScript's parser finds the tokens (so
 * a `//` in a string, a template or a regular expression is no comment): each such gap
 * becomes one newline when it held a line terminator and one space otherwise. A line
 * terminator there is the only part of it the language reads (automatic semicolon
 * insertion, `return`/`throw`/postfix `++` before a line break, ECMA-262 12.10), and a
 * space keeps two tokens apart; a template's text is a token, so its lines keep their
 * spaces.
 */
import ts = require('typescript');

/** The gap between two tokens, as it is written back. */
function gap(text: string, from: number, to: number): string {
  if (from === to) return '';
  return /[\n\r\u2028\u2029]/.test(text.slice(from, to)) ? '\n' : ' ';
}

/**
 * An HTML-like comment (ECMA-262 B.1.1): in a script, as Node compiles a CommonJS module,
 * `<!--` starts a comment that runs to the end of its line, and so does `-->` at the start
 * of a line; TypeScript's parser reads both as operators. A `/*` inside such a line is a
 * comment's start to the parser, not to V8, and the gap it makes would take away code V8
 * runs: after a line `x = 1 <!-- a /*`, a line `y = 2; //` ending the parser's comment is
 * code to V8, and left out.
 */
const HTML_LIKE_COMMENT = /<!--|-->/;

/**
 * `text` (a CommonJS module) with every gap between its tokens made one newline or one
 * space; as it is when it may hold an HTML-like comment, which the parser does not see.
 */
export function compactModule(text: string): string {
  if (HTML_LIKE_COMMENT.test(text)) return text;
  const source = ts.createSourceFile('module.js', text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const out: string[] = [];
  let end = 0;
  const visit = (node: ts.Node): void => {
    // JSDoc comments are children of the node they document: they are left out with the rest of the gap.
    if (ts.isJSDoc(node)) return;
    const children = node.getChildren(source);
    if (children.length === 0) {
      const start = node.getStart(source);
      if (start === node.end) return;
      out.push(gap(text, end, start), text.slice(start, node.end));
      end = node.end;
      return;
    }
    for (const child of children) visit(child);
  };
  visit(source);
  out.push(gap(text, end, text.length));
  return out.join('');
}
