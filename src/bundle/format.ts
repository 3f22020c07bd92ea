/**
 * The CLI bundle: the compiled modules the `mountkit` command loads (dist/cli/main.js and
 * everything it requires by a literal name, tsyringe, reflect-metadata and koffi's
 * JavaScript included) in one script, dist/cli.bundle.js, with V8's code cache of it
 * in dist/cli.bundle.cache. Loading one file whose compiled code comes from the cache
 * replaces resolving, reading and compiling about 120 small files at every start.
 *
 * The script is `(function (define) { define(id, deps, function (exports, require,
 * module, __filename, __dirname) { ...module text... }); ... })`. An id is the module's
 * file relative to the package root, with `/` separators; `deps` maps each literal
 * require() name in the text to the id it resolved to when the bundle was built.
 *
 * This file is the format both sides share; build.ts writes it, load.ts reads it.
 */

/** The bundle's files, relative to the package root. */
export const BUNDLE_FILE = 'dist/cli.bundle.js';
export const BUNDLE_CACHE_FILE = 'dist/cli.bundle.cache';
export const BUNDLE_MANIFEST_FILE = 'dist/cli.bundle.json';

/** The module every CLI start loads first. */
export const CLI_ENTRY = 'dist/cli/main.js';

/**
 * Packages never put in the bundle: winston is loaded only for the logging modes that need
 * it (core/logger.ts), and a bundle of it would make every start read it.
 */
export const UNBUNDLED_PACKAGES: readonly string[] = ['winston'];

/** What the loader checks before using a bundle: the packages in it, as they were at build time. */
export interface BundleManifest {
  /** The format, for a loader to refuse a bundle it does not know. */
  format: 1;
  /** Each bundled package's directory (relative to the package root) and its version. */
  packages: { dir: string; version: string }[];
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

/** Only JavaScript and JSON are bundled; a native addon (.node) is loaded by Node when required. */
export function isBundleable(file: string): boolean {
  return /\.(c?js|json)$/.test(file);
}

/** The text of one module in the bundle: a hashbang line is dropped, JSON becomes an assignment. */
export function moduleFunction(id: string, deps: Record<string, string>, text: string): string {
  const body = id.endsWith('.json') ? `module.exports = ${text.trim()};` : text.replace(/^#!.*/, '');
  return `define(${JSON.stringify(id)}, ${JSON.stringify(deps)}, function (exports, require, module, __filename, __dirname) {\n${body}\n});\n`;
}

/**
 * The whole bundle script around the module texts; each module keeps its own strictness
 * (its own "use strict" or none). It is kept ASCII (asciiOnly), so that the loader reads
 * it as latin1 into a one-byte string: a single other character makes V8 hold the whole
 * text two bytes per character and makes reading it decode UTF-8.
 */
export function bundleScript(modules: readonly string[]): string {
  return asciiOnly(`(function (define) {\n${modules.join('')}})\n`);
}

/**
 * Writes each character outside ASCII as its \uXXXX escape (each UTF-16 unit of one
 * beyond U+FFFF). In comments, string and template literals, regular expressions and
 * identifiers the escape means the same character; only a template's raw text
 * (String.raw) would see the escape itself, and the bundled code has none outside ASCII.
 */
export function asciiOnly(text: string): string {
  // `\é` (an escaped é) would become `\\u00e9`, an escaped backslash: refused rather than changed.
  const escaped = /\\[^\x00-\x7f]/.exec(text);
  if (escaped) throw new Error(`a backslash before a character outside ASCII at offset ${escaped.index} cannot be kept as it is`);
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
