/**
 * runc reads config.json with Go's encoding/json, which matches a JSON key to a field of
 * the struct the object decodes into in any case when no key matches it exactly
 * ("Readonly" sets root.readonly). mountkit reads keys exactly, so such a key would be
 * ignored without a word: a read-only root left writable, a seccomp profile not loaded.
 * A key that is no field of its object but one of them in another case is refused
 * instead, naming both. Only the object's own fields count (spec-fields.ts): Go ignores a
 * key that matches none of them, and so does mountkit, whatever field of another object
 * it may spell ("Path" in process, or in an object mountkit does not read).
 */
import { ConfigError } from '../errors';
import { SPEC_SHAPE, shapeWithin, type FieldShape, type StructShape } from './spec-fields';

/**
 * A key as Go's encoding/json compares it with a field name (bytes.EqualFold, Unicode
 * simple case folding): in lower case, and the two letters outside ASCII that fold to an
 * ASCII one, U+017F LATIN SMALL LETTER LONG S to "s" (U+212A KELVIN SIGN is "k" in lower
 * case already).
 */
export function foldedKey(key: string): string {
  return key.toLowerCase().replace(/\u017f/g, 's');
}

/** Each struct's field names by their folded key, made when a struct is first met. */
const FOLDS = new WeakMap<StructShape, ReadonlyMap<string, string>>();

/** The field of `struct` that `key`, no field name of it, names in another case; undefined when none. */
function fieldInOtherCase(struct: StructShape, key: string): string | undefined {
  let folds = FOLDS.get(struct);
  if (folds === undefined) {
    folds = new Map([...struct.fields.keys()].map((name) => [foldedKey(name), name]));
    FOLDS.set(struct, folds);
  }
  return folds.get(foldedKey(key));
}

/** Go's encoding/json refuses JSON nested deeper than this (maxNestingDepth, "exceeded max depth"). */
export const MAX_NESTING = 10000;

/** A place in the walk: its value, the key or index it was reached by and its parent's place (its JSON path, built only for an error). */
interface Place {
  value: unknown;
  key: string | number;
  parent: Place | undefined;
  depth: number;
  /** What the runtime-spec's type holds there (spec-fields.ts); undefined where mountkit reads nothing. */
  shape: FieldShape | undefined;
}

/** The most components of a JSON path an error shows. */
const SHOWN_COMPONENTS = 12;

/** The JSON path of a place (`linux.seccomp.syscalls[0].names`), its first SHOWN_COMPONENTS components then `...`. */
function pathOf(place: Place | undefined): string {
  const parts: string[] = [];
  for (let p = place; p?.parent !== undefined; p = p.parent) parts.push(typeof p.key === 'number' ? `[${p.key}]` : `.${p.key}`);
  parts.reverse();
  const shown = parts.length > SHOWN_COMPONENTS ? [...parts.slice(0, SHOWN_COMPONENTS), '...'] : parts;
  return shown.join('').replace(/^\./, '');
}

/**
 * Refuses the first key of `spec`'s objects that is no field of its object but one in
 * another case (see above), naming it by its JSON path, and a spec nested deeper than
 * MAX_NESTING, as runc's decoder refuses it (a cycle in a spec built in code ends there
 * too). The keys of maps (annotations, linux.sysctl, linux.timeOffsets) are names, never
 * refused, and so are those of objects mountkit does not read. The walk keeps a stack of
 * its own, and builds a path only for its error. Returns how many arrays and objects
 * `spec` holds, itself included, which the loader compares with the text's
 * (refuseMergedDuplicates).
 */
export function refuseOtherCase(spec: unknown): number {
  const todo: Place[] = [{ value: spec, key: '', parent: undefined, depth: 0, shape: SPEC_SHAPE }];
  let containers = 0;
  while (todo.length > 0) {
    const place = todo.pop()!;
    const { value, depth, shape } = place;
    if (typeof value !== 'object' || value === null) continue;
    containers++;
    if (depth >= MAX_NESTING) throw new ConfigError(pathOf(place.parent) || 'config.json', undefined, `nests arrays and objects more than ${MAX_NESTING} deep, which runc's Go decoder refuses too`);
    // Only arrays and objects are walked into: a string or a number holds no key. Indexed
    // loops over Object.keys: forEach's callback and Object.entries' pairs cost more in
    // V8's interpreter, where a run walks its config once.
    if (Array.isArray(value)) {
      const itemShape = shapeWithin(shape, 0);
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item === 'object' && item !== null) todo.push({ value: item, key: i, parent: place, depth: depth + 1, shape: itemShape });
      }
      continue;
    }
    const struct = typeof shape === 'object' && shape.kind === 'struct' ? shape : undefined;
    const keys = Object.keys(value);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const item: unknown = (value as Record<string, unknown>)[key];
      const meant = struct === undefined || struct.fields.has(key) ? undefined : fieldInOtherCase(struct, key);
      if (meant !== undefined) {
        const at = pathOf({ value: item, key, parent: place, depth, shape: undefined });
        throw new ConfigError(at, undefined, `is not a field mountkit reads: a runtime that reads config.json with Go's encoding/json (runc) takes it as ${JSON.stringify(meant)}, matching keys in any case; write ${JSON.stringify(meant)}`);
      }
      if (typeof item === 'object' && item !== null) todo.push({ value: item, key, parent: place, depth: depth + 1, shape: shapeWithin(shape, key) });
    }
  }
  return containers;
}
