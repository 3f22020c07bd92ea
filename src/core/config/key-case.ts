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
  const lower = key.toLowerCase();
  return lower.includes('\u017f') ? lower.replaceAll('\u017f', 's') : lower;
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

/** Refuses `key` of the object at `place`, no field of `struct`, when it names one in another case. */
function refuseKey(struct: StructShape, key: string, place: Place): void {
  const meant = fieldInOtherCase(struct, key);
  if (meant === undefined) return;
  const at = pathOf({ value: undefined, key, parent: place, depth: place.depth, shape: undefined });
  throw new ConfigError(at, undefined, `is not a field mountkit reads: a runtime that reads config.json with Go's encoding/json (runc) takes it as ${JSON.stringify(meant)}, matching keys in any case; write ${JSON.stringify(meant)}`);
}

function structOf(shape: FieldShape | undefined): StructShape | undefined {
  return typeof shape === 'object' && shape.kind === 'struct' ? shape : undefined;
}

/** Whether `list` holds no array and no object. */
function holdsNoContainer(list: readonly unknown[]): boolean {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (typeof item === 'object' && item !== null) return false;
  }
  return true;
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
 *
 * The walk is depth first, an object's keys all refused before anything within it, its
 * last value first: so with more than one key to refuse, the one named is always the
 * same. What nests nothing of its own is walked where it is met, in that order, rather
 * than from a place on the stack (see below): a config may hold thousands of mounts.
 * That is done here, in this function called once, with no function of mountkit's
 * called per mount: V8 compiles a small function called for each of thousands of mounts
 * with TurboFan (1 to 4 ms each on another thread, competing with this one on a busy
 * machine), for a walk made once.
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
    const items = value as Record<string | number, unknown>;
    // An object's keys, each refused before anything within it is walked; undefined for an array.
    let keys: string[] | undefined;
    if (!Array.isArray(value)) {
      keys = Object.keys(value);
      const struct = structOf(shape);
      if (struct !== undefined) {
        for (let i = 0; i < keys.length; i++) if (!struct.fields.has(keys[i])) refuseKey(struct, keys[i], place);
      }
    }
    // Its items or values, last first as the stack gives them. Those at the end that need
    // no place of their own are walked here: a leaf list (no array or object in it) is
    // counted, and an object nesting nothing but leaf lists (a mount, a namespace, a
    // device) has its keys refused and is counted with its lists. From the first that
    // nests more, or lies too deep, it and every one before it go onto the stack in order,
    // as the walk would have pushed them; its keys looked at here (none refused) are
    // looked at again there.
    const within = depth + 1;
    const listShape = keys === undefined ? shapeWithin(shape, 0) : undefined;
    const listStruct = structOf(listShape);
    let i = (keys === undefined ? (value as unknown[]).length : keys.length) - 1;
    walk: for (; i >= 0; i--) {
      const key = keys === undefined ? i : keys[i];
      const item = items[key];
      if (typeof item !== 'object' || item === null) continue;
      if (within >= MAX_NESTING) break;
      if (Array.isArray(item)) {
        if (!holdsNoContainer(item)) break;
        containers++;
        continue;
      }
      const itemShape = keys === undefined ? listShape : shapeWithin(shape, key);
      const struct = keys === undefined ? listStruct : structOf(itemShape);
      const itemKeys = Object.keys(item);
      let count = 1;
      for (let k = 0; k < itemKeys.length; k++) {
        const itemKey = itemKeys[k];
        if (struct !== undefined && !struct.fields.has(itemKey)) refuseKey(struct, itemKey, { value: item, key, parent: place, depth: within, shape: itemShape });
        const inner: unknown = (item as Record<string, unknown>)[itemKey];
        if (typeof inner !== 'object' || inner === null) continue;
        if (!Array.isArray(inner) || within + 1 >= MAX_NESTING) break walk;
        for (let n = 0; n < inner.length; n++) {
          const x: unknown = inner[n];
          if (typeof x === 'object' && x !== null) break walk;
        }
        count++;
      }
      containers += count;
    }
    for (let j = 0; j <= i; j++) {
      const key = keys === undefined ? j : keys[j];
      const item = items[key];
      if (typeof item !== 'object' || item === null) continue;
      if (within < MAX_NESTING && Array.isArray(item) && holdsNoContainer(item)) containers++;
      else todo.push({ value: item, key, parent: place, depth: within, shape: keys === undefined ? listShape : shapeWithin(shape, key) });
    }
  }
  return containers;
}
