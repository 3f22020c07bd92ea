/**
 * OCI hooks run by `mountkit run` for real, beside runc 1.1.5 where the two agree: how
 * much of a failing hook's output its message keeps, and what a hook file must be.
 */
import { OUTPUT_KEPT } from '../../src/core/command-output';
import { BUSYBOX, busyboxConfig as config, withBundle, runMountkit } from '../conformance/harness';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('hook runs need root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

maybe('hooks under mountkit run', () => {
  test.each(['prestart', 'createContainer', 'startContainer'])(
    "a failing %s hook's output past OUTPUT_KEPT: the run's one line keeps its start and its end, and counts the bytes between (the prestart hook's result crosses the runtime channel)",
    (kind) => {
      const lines = (3 * OUTPUT_KEPT) / 16;
      const c = config(['true']);
      c.hooks = { [kind]: [{ path: '/bin/sh', args: ['sh', '-c', `echo first; yes xxxxxxxxx | head -n ${lines}; echo last >&2; exit 3`] }] };
      const r = withBundle(c, (dir) => runMountkit(dir));
      const written = 'first\n'.length + lines * 10 + 'last\n'.length;
      expect([r.status, r.stdout]).toEqual([1, '']);
      expect(r.stderr.split('\n')).toEqual([expect.stringMatching(/^mountkit: .* failed \(exit status 3\): "first\\nxxxxxxxxx\\n.*\\n\[(\d+) bytes left out\]\\n.*xxxxxxxxx\\nlast"$/), '']);
      expect(/\[(\d+) bytes left out\]/.exec(r.stderr)?.[1]).toBe(String(written - OUTPUT_KEPT));
    },
  );
});
