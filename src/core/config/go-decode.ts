/**
 * config.json's values checked against the runtime-spec's Go types (go-spec.ts), as
 * runc's Go decoder checks them: a value of another JSON type, a fraction or an integer
 * out of its type's range refuses the bundle, wherever it is. The loader's readers
 * (oci.ts) check each field mountkit reads, with messages of their own; this walk, run
 * after them, checks the fields they leave, which mountkit does not use (`ociVersion`,
 * `linux.resources`, `linux.cgroupsPath`, `windows`...).
 *
 * JSON.parse keeps the last value of a key given twice in an object, and the walk sees
 * that one only, where Go decodes each: runc refuses `{"uid": "x", "uid": 0}`, mountkit
 * takes it (README.md, "Differences from runc"). Finding such keys takes a pass over the
 * whole text on every load, which a config without them, any config a tool writes, would
 * pay for nothing.
 */
import { ConfigError } from '../errors';
import { GO_SPEC, fieldType, goMismatch, goTypeName, goTypeWords, structFields, type GoType } from './go-spec';
import { jsonTypeWords } from './json';

/** A value to check: its Go type, and where it is (its JSON path, built only for an error). */
interface Place {
  value: unknown;
  type: GoType;
  key: string | number;
  /** Whether `key` is a map's (a name, shown quoted) rather than a field's. */
  inMap: boolean;
  parent: Place | undefined;
}

/** The JSON path of a place: `linux.resources.devices[0].major`, `linux.resources.unified["io.max"]`. */
function pathOf(place: Place): string {
  const parts: string[] = [];
  for (let p: Place | undefined = place; p?.parent !== undefined; p = p.parent) parts.push(typeof p.key === 'number' ? `[${p.key}]` : p.inMap ? `[${JSON.stringify(p.key)}]` : `.${p.key}`);
  return parts.reverse().join('').replace(/^\./, '');
}

/** The error for a value of `type` at `field` that Go's decoder refuses (goMismatch's `mismatch`). */
export function goTypeError(field: string, value: unknown, type: GoType, mismatch: 'type' | 'integer' | 'range'): ConfigError {
  const expected = `must be ${goTypeWords(type)} (Go ${goTypeName(type)})`;
  const why = "runc's Go decoder refuses config.json for it, though mountkit does not use the field";
  return new ConfigError(field, value, mismatch === 'type' ? `${expected}, not ${jsonTypeWords(value)}: ${why}` : `${expected}: ${why}`);
}

/**
 * Refuses the first value of `spec` (what JSON.parse made of config.json) that runc's
 * Go decoder refuses in a field the loader's readers leave (a struct's unchecked ones,
 * go-spec.ts), in the order of the text, naming it by its JSON path and the type it
 * must have. A key matches a field as Go matches it (fieldType), and one that matches
 * none is passed over, as Go ignores it. A key that names a checked field in another
 * case is refused before (key-case.ts): one left names none of them. One function, with
 * the table's text looked up in place: a load runs it once, cold, where each function
 * run for the first time costs more than what it does.
 */
export function refuseGoTypeErrors(spec: unknown): void {
  const todo: Place[] = [{ value: spec, type: GO_SPEC, key: '', inMap: false, parent: undefined }];
  while (todo.length > 0) {
    const place = todo.pop()!;
    const { value, type } = place;
    const mismatch = goMismatch(value, type);
    if (mismatch !== undefined) throw goTypeError(pathOf(place), value, type, mismatch);
    if (typeof value !== 'object' || value === null || type === 'any') continue;
    // Last first onto the stack, so that the first in the text is checked first.
    if (type.startsWith('[]')) {
      const items = value as unknown[];
      const item = type.slice(2);
      for (let i = items.length - 1; i >= 0; i--) todo.push({ value: items[i], type: item, key: i, inMap: false, parent: place });
      continue;
    }
    const keys = Object.keys(value);
    const inMap = type.startsWith('map[string]');
    const fields = inMap ? undefined : structFields(type);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i];
      // A checked field's exact key is the readers'; only a key that names no field exactly is matched in any case.
      const field = fields === undefined ? type.slice(11) : (fieldType(fields.unchecked, key, true) ?? (fieldType(fields.checked, key, true) === undefined ? fieldType(fields.unchecked, key) : undefined));
      if (field !== undefined) todo.push({ value: (value as Record<string, unknown>)[key], type: field, key, inMap, parent: place });
    }
  }
}
