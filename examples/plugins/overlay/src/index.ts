/**
 * mountkit plugin: overlayfs mounts. Load it through plugins.json:
 *   { "module": "./dist/index.js", "options": { "createMissing": true } }
 */
import type { RegisterPlugin } from 'mountkit';
import { OverlayMountHandler } from './handler';

export { OverlayMountHandler };
export { overlayData, parseOverlayData, resolveLayer, resolveLayers, type OverlayLayers } from './layers';
export { DEFAULT_OPTIONS, parseOptions, type OverlayOptions } from './options';

/** Called once by the kernel with this module's plugins.json entry; the kernel builds the handler. */
export const register: RegisterPlugin = (api) => {
  api.handler(OverlayMountHandler);
};
