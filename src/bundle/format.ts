/**
 * The CLI bundle: the compiled modules the `mountkit` command loads (dist/cli/main.js and
 * everything it requires by a literal name, tsyringe, reflect-metadata and koffi's
 * JavaScript included) in one script, dist/cli.bundle.js, with V8's code cache of it
 * in dist/cli.bundle.ID.cache. Loading one file whose compiled code comes from the cache
 * replaces resolving, reading and compiling about 120 small files at every start.
 *
 * The script is a first line `// mountkit CLI bundle ID`, then one array expression of
 * `[id, deps, function (exports, require, module, __filename, __dirname) { ...module
 * text... }]` entries, which is its value: no name of the bundle's own is in scope of
 * the modules. An id is the module's file relative to the package root when the bundle
 * was built, with `/` separators; `deps` maps each literal require() name in the text to
 * the id it resolved to then. mountkit's own files are there wherever it is installed; a
 * package's files are in the directory the loader finds the package in as Node would
 * (BundledPackage), which the manifest ties to the id's prefix. ID is made at each build
 * and names the manifest's and the code cache's bundle: V8 checks a code cache against
 * the length of the text only.
 *
 * This file is the format both sides share; build.ts writes it, load.ts reads it.
 */

/** The bundle's files, relative to the package root. */
export const BUNDLE_FILE = 'dist/cli.bundle.js';
export const BUNDLE_MANIFEST_FILE = 'dist/cli.bundle.json';

/** The code cache of the bundle built as `id`. */
export function bundleCacheFile(id: string): string {
  return `dist/cli.bundle.${id}.cache`;
}

/** The first line of the bundle built as `id`. */
export function bundleHeader(id: string): string {
  return `// mountkit CLI bundle ${id}\n`;
}

/**
 * The name the script is compiled under, the same wherever the package is: V8 keeps the
 * name a code cache was made with, and would show the build's directory in stack traces.
 */
export const BUNDLE_SCRIPT_NAME = 'mountkit/dist/cli.bundle.js';

/** The module every CLI start loads first. */
export const CLI_ENTRY = 'dist/cli/main.js';

/**
 * Packages never put in the bundle: winston is loaded only for the logging modes that need
 * it (core/logger.ts), and a bundle of it would make every start read it.
 */
export const UNBUNDLED_PACKAGES: readonly string[] = ['winston'];

/** A bundled file: its path (relative to the package root for mountkit's own files, to its package's directory for a package's) and size in bytes. */
export interface BundledFile {
  path: string;
  size: number;
}

/**
 * A package in the bundle, as the loader finds it: Node looks for a package required by
 * name in `node_modules/NAME` of the requiring module's directory and of each directory
 * above it (skipping directories themselves named node_modules), so where it is depends
 * on where the requiring module is, not on where it was at build time.
 */
export interface BundledPackage {
  /** Where it was when the bundle was built, relative to the package root: the prefix of its files' ids (`DIR/PATH`). */
  dir: string;
  /** The name it is required by: its directory's name under node_modules (`name` or `@scope/name`). */
  name: string;
  version: string;
  /**
   * The bundled modules it is required from, first the one it was first required from:
   * one in each package that requires it (mountkit's own files counting as one).
   */
  from: string[];
  files: BundledFile[];
}

/**
 * What the loader checks before using a bundle: that it is the bundle of this manifest
 * (`id`), that no bundled file changed since it was built (`files`, the packages' files),
 * and that each package is found, from the modules requiring it, at the version bundled.
 */
export interface BundleManifest {
  /** The format, for a loader to refuse a bundle it does not know. */
  format: 3;
  id: string;
  /** mountkit's own bundled files (their paths are their ids). */
  files: BundledFile[];
  /** The bundled packages, each listed after the package its first `from` is in. */
  packages: BundledPackage[];
}

function isBundledFile(v: unknown): v is BundledFile {
  const f = v as Partial<BundledFile> | null;
  return typeof f === 'object' && f !== null && typeof f.path === 'string' && Number.isSafeInteger(f.size) && (f.size as number) >= 0;
}

function isBundledPackage(v: unknown): v is BundledPackage {
  const p = v as Partial<BundledPackage> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.dir === 'string' &&
    typeof p.name === 'string' &&
    typeof p.version === 'string' &&
    Array.isArray(p.from) &&
    p.from.length > 0 &&
    p.from.every((f) => typeof f === 'string') &&
    Array.isArray(p.files) &&
    p.files.every(isBundledFile)
  );
}

/** Whether `v` has the shape of a BundleManifest: a damaged file is refused, not half read. */
export function isBundleManifest(v: unknown): v is BundleManifest {
  const m = v as Partial<BundleManifest> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.format === 3 &&
    typeof m.id === 'string' &&
    Array.isArray(m.files) &&
    m.files.every(isBundledFile) &&
    Array.isArray(m.packages) &&
    m.packages.every(isBundledPackage)
  );
}

/**
 * The names a module's text passes to require() as a string literal, in order of first
 * appearance. A name built at run time (the plugin loader's `require(resolved)`) is not
 * one, and is resolved when the call is made.
 */
export function literalRequires(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(/\brequire\(\s*(?:"([^"\\\n]+)"|'([^'\\\n]+)')\s*\)/g)) {
    const name = m[1] ?? m[2];
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** The package a require() name asks for (`@scope/name` or `name`); undefined for a relative or absolute path. */
export function packageOf(name: string): string | undefined {
  if (name.startsWith('.') || name.startsWith('/')) return undefined;
  const parts = name.split('/');
  return name.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The package directory holding `id` (`node_modules/pkg` or `node_modules/@scope/pkg`, the innermost); undefined for mountkit's own files. */
export function packageDirOf(id: string): string | undefined {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(id);
  return m ? m[1] : undefined;
}

/** The name a package directory (packageDirOf) is required by: its path after the last node_modules/. */
export function packageNameOf(dir: string): string {
  return dir.slice(dir.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** Only JavaScript and JSON are bundled; a native addon (.node) is loaded by Node when required. */
export function isBundleable(file: string): boolean {
  return /\.(c?js|json)$/.test(file);
}

/**
 * The text of one module in the bundle: a hashbang line is dropped; JSON is parsed with
 * JSON.parse, as Node loads a .json file (a `__proto__` key stays a key, and what is
 * JavaScript but not JSON is refused).
 */
export function moduleEntry(id: string, deps: Record<string, string>, text: string): string {
  const body = id.endsWith('.json') ? `module.exports = JSON.parse(${JSON.stringify(text.replace(/^\uFEFF/, ''))});` : text.replace(/^#!.*/, '');
  return `[${JSON.stringify(id)}, ${JSON.stringify(deps)}, function (exports, require, module, __filename, __dirname) {\n${body}\n}]`;
}

/**
 * The whole bundle script of `id` around the module entries; each module keeps its own
 * strictness (its own "use strict" or none). It is kept ASCII (asciiOnly), so that the
 * loader reads it as latin1 into a one-byte string: a single other character makes V8
 * hold the whole text two bytes per character and makes reading it decode UTF-8.
 */
export function bundleScript(id: string, entries: readonly string[]): string {
  return asciiOnly(`${bundleHeader(id)}[\n${entries.join(',\n')}\n]\n`);
}

/**
 * Characters whose \\u escape would not mean the same: line terminators and white space
 * outside ASCII (a U+2028 ends a // comment, an escaped one does not; an escape is no
 * white space between tokens). Refused when building rather than changed.
 */
const UNESCAPABLE = /[\u2028\u2029\uFEFF\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/;

/**
 * Writes each other character outside ASCII as its \\uXXXX escape (each UTF-16 unit of
 * one beyond U+FFFF). In comments, string and template literals, regular expressions and
 * identifiers the escape means the same character; only a template's raw text
 * (String.raw), a RegExp's `source` and a function's toString() show the escape itself,
 * and the bundled code relies on none of them outside ASCII.
 */
export function asciiOnly(text: string): string {
  // `\é` (an escaped é) would become `\\u00e9`, an escaped backslash: refused rather than changed.
  const escaped = /\\[^\x00-\x7f]/.exec(text);
  if (escaped) throw new Error(`a backslash before a character outside ASCII at offset ${escaped.index} cannot be kept as it is`);
  const unescapable = UNESCAPABLE.exec(text);
  if (unescapable) {
    const code = unescapable[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new Error(`U+${code} at offset ${unescapable.index} (a line terminator or white space) cannot be written as an escape`);
  }
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
