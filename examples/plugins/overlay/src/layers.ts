/**
 * The overlay mount's layers, from the mount's data options (the OCI `options` that are
 * not mount flags: `lowerdir=...`, `upperdir=...`, `workdir=...`). Pure.
 *
 * Paths: a relative path is resolved from the bundle directory (where config.json is),
 * never from the rootfs or the current directory; an absolute path is a host path, as a
 * bind mount's source is. overlayfs reads ":" in lowerdir as the layer separator and "\"
 * as an escape, and mount data is split at ",", so paths holding those are refused.
 */
import * as posix from 'path/posix';
import { ConfigError, isWithin } from 'mountkit';

export interface OverlayLayers {
  /** Lower layers, topmost first, as overlayfs takes them. */
  lower: string[];
  upper?: string;
  work?: string;
  /** The other data options (index=off, xino=auto, ...), in order, passed on unchanged. */
  other: string[];
}

const LAYER_KEYS = ['lowerdir', 'upperdir', 'workdir'] as const;
type LayerKey = (typeof LAYER_KEYS)[number];

function refuseSeparators(key: LayerKey, value: string, forbidden: RegExp): void {
  if (forbidden.test(value)) {
    throw new ConfigError(key, value, 'contains a character overlayfs reads as a separator or an escape (":" in upperdir and workdir, "\\" anywhere)');
  }
}

/** The layers as written in `data` (a comma-separated list of mount options). */
export function parseOverlayData(data: string): OverlayLayers {
  const given = new Map<LayerKey, string>();
  const other: string[] = [];
  for (const word of data.split(',').filter((w) => w !== '')) {
    const eq = word.indexOf('=');
    const key = (eq < 0 ? word : word.slice(0, eq)) as LayerKey;
    if (!LAYER_KEYS.includes(key)) {
      other.push(word);
      continue;
    }
    const value = eq < 0 ? '' : word.slice(eq + 1);
    if (given.has(key)) throw new ConfigError(key, value, 'is given twice');
    if (value === '') throw new ConfigError(key, undefined, 'needs a path');
    given.set(key, value);
  }
  const lowerdir = given.get('lowerdir');
  if (lowerdir === undefined) throw new ConfigError('lowerdir', undefined, 'is required: an overlay mount needs at least one lower layer');
  refuseSeparators('lowerdir', lowerdir, /\\/);
  const lower = lowerdir.split(':');
  if (lower.includes('')) throw new ConfigError('lowerdir', lowerdir, 'has an empty layer');
  const upper = given.get('upperdir');
  const work = given.get('workdir');
  if (upper !== undefined) refuseSeparators('upperdir', upper, /[:\\]/);
  if (work !== undefined) refuseSeparators('workdir', work, /[:\\]/);
  if ((upper === undefined) !== (work === undefined)) {
    throw upper === undefined
      ? new ConfigError('upperdir', undefined, 'is required with workdir')
      : new ConfigError('workdir', undefined, 'is required with upperdir: overlayfs keeps its work files there');
  }
  // fs/overlayfs/params.c: "at least 2 lowerdir are needed while upperdir nonexistent".
  if (upper === undefined && lower.length < 2) {
    throw new ConfigError('lowerdir', lowerdir, 'needs two layers or more without upperdir (a read-only overlay)');
  }
  return { lower, ...(upper === undefined ? {} : { upper, work }), other };
}

/** A layer path as the host sees it: relative ones from the bundle directory. */
export function resolveLayer(bundle: string, p: string): string {
  return posix.resolve(bundle, p);
}

/**
 * Every layer as a host path. overlayfs needs upperdir and workdir to be separate
 * subtrees ("workdir and upperdir must be separate subtrees"), so nesting is refused.
 */
export function resolveLayers(layers: OverlayLayers, bundle: string): OverlayLayers {
  const lower = layers.lower.map((p) => resolveLayer(bundle, p));
  if (layers.upper === undefined || layers.work === undefined) return { ...layers, lower };
  const upper = resolveLayer(bundle, layers.upper);
  const work = resolveLayer(bundle, layers.work);
  if (isWithin(upper, work) || isWithin(work, upper)) {
    throw new ConfigError('workdir', work, `must not be upperdir (${upper}), nor inside it, nor hold it: overlayfs needs separate subtrees`);
  }
  return { ...layers, lower, upper, work };
}

/** The data mount(2) gets: the layers, then the other options. */
export function overlayData(layers: OverlayLayers): string {
  const words = [`lowerdir=${layers.lower.join(':')}`];
  if (layers.upper !== undefined) words.push(`upperdir=${layers.upper}`, `workdir=${layers.work}`);
  return [...words, ...layers.other].join(',');
}
