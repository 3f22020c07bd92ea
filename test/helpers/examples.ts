import { spawnSync } from 'child_process';
import * as path from 'path';
import { REPO } from './cli';

/** The example third-party overlay plugin and its plugin list. */
export const OVERLAY_EXAMPLE = path.join(REPO, 'examples', 'plugins', 'overlay');
export const OVERLAY_PLUGINS = path.join(OVERLAY_EXAMPLE, 'plugins.json');

/** Builds the example with its own tsconfig, as its author would (`tsc -p examples/plugins/overlay`), against the built mountkit types in dist/. */
export function buildOverlayExample(): void {
  const r = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', OVERLAY_EXAMPLE], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the example failed: ${r.stdout}${r.stderr}`);
}
