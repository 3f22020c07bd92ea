import { BUSYBOX } from '../conformance/harness';

/**
 * What the embedding tests share: they run the pipeline for real, so they need root and
 * busybox-static (its rootfs), which CI installs (.ci/run); elsewhere they are skipped.
 */
const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('embedding tests need root and busybox-static (installed by .ci/run)');
export const describeEmbedding = available ? describe : describe.skip;

/** A small bundle's config.json: busybox sh, /proc, /dev and /tmp; in a new mount namespace only. */
export const EMBEDDING_SPEC = {
  ociVersion: '1.0.2',
  process: { args: ['sh'], env: ['PATH=/bin'], cwd: '/' },
  root: { path: 'rootfs' },
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] },
  ],
  linux: { namespaces: [{ type: 'mount' }] },
};
