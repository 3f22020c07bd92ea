/**
 * The plugin's options, from its plugins.json entry (`"options": {...}`). Pure.
 */
import { ConfigError } from 'mountkit';

export interface OverlayOptions {
  /** Create a missing upperdir or workdir (with its missing parents); when false, a missing one is a configuration error. */
  createMissing: boolean;
  /** Mode of the directories created, before the umask. */
  dirMode: number;
}

export const DEFAULT_OPTIONS: OverlayOptions = { createMissing: true, dirMode: 0o755 };

/** The options with their defaults; a wrong one is a ConfigError naming it. */
export function parseOptions(raw: Readonly<Record<string, unknown>>): OverlayOptions {
  const known = new Set(Object.keys(DEFAULT_OPTIONS));
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) throw new ConfigError(`options.${key}`, raw[key], `is not an option of the overlay plugin (known: ${[...known].join(', ')})`);
  }
  const { createMissing = DEFAULT_OPTIONS.createMissing, dirMode = DEFAULT_OPTIONS.dirMode } = raw;
  if (typeof createMissing !== 'boolean') throw new ConfigError('options.createMissing', createMissing, 'must be true or false');
  if (typeof dirMode !== 'number' || !Number.isInteger(dirMode) || dirMode < 0 || dirMode > 0o7777) {
    throw new ConfigError('options.dirMode', dirMode, 'must be a mode from 0 to 4095 (0o7777)');
  }
  return { createMissing, dirMode };
}
