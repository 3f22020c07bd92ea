import type { RegisterPlugin } from '../../core/kernel';
import { CwdStep } from './cwd';
import { ReopenDevNullStep } from './reopen-devnull';

export { CwdStep, ReopenDevNullStep };

/** /dev/null first, then the cwd, as runc does; both in the after-jail phase. */
export const register: RegisterPlugin = (api) => {
  api.step(ReopenDevNullStep);
  api.step(CwdStep);
};
