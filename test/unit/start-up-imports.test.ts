import { isBuiltin } from 'module';
import fs = require('fs');
import path = require('path');

const SRC = path.resolve(__dirname, '..', '..', 'src');

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) return sources(file);
    return e.name.endsWith('.ts') ? [file] : [];
  });
}

/** The `import * as NAME from 'MODULE'` lines of `text` whose module is one of Node's own. */
function builtinNamespaceImports(text: string): string[] {
  return [...text.matchAll(/^import \* as \w+ from '([^']+)';$/gm)].filter((m) => isBuiltin(m[1])).map((m) => m[0]);
}

describe('start-up cost of imports', () => {
  test.each([
    ["import * as fs from 'fs';", ["import * as fs from 'fs';"]],
    ["import * as posix from 'path/posix';", ["import * as posix from 'path/posix';"]],
    ["import * as errors from './errors';", []],
    ["import fs = require('fs');", []],
    ["import { readFileSync } from 'fs';", []],
  ])('%j is flagged: %j', (line, flagged) => expect(builtinNamespaceImports(line)).toEqual(flagged));

  // With esModuleInterop, tsc compiles `import * as fs from 'fs'` to __importStar(require('fs')):
  // a copy of the module with a getter defined per export (fs has about a hundred), made
  // in every module that imports it. Cold, a copy of fs took 0.1-0.2 ms; the 28 such imports
  // of fs, path, path/posix and os cost about 2.4 ms of every run's start-up (the loader
  // and the CLI bundle's modules, 7.4 against 5.0 ms at best of 20 fresh processes).
  test("no module of mountkit's copies a namespace of Node's own modules", () => {
    const found = sources(SRC).flatMap((file) => builtinNamespaceImports(fs.readFileSync(file, 'utf8')).map((line) => `${path.relative(SRC, file)}: ${line}`));
    expect(found).toEqual([]);
  });
});
