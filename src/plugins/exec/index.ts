import type { RegisterPlugin } from '../../core/kernel';
import { HandoverStep } from './handover';
import { SessionKeyringStep } from './keyring';
import { OomScoreAdjStep, OomScoreAfterHooksStep } from './oom-score';
import { SeccompStep } from './seccomp';
import { SetgroupsPolicyStep } from './setgroups';
import { SessionStep } from './session';
import { ConsoleSocketStep, ConsoleStep } from './console';

export { ConsoleSocketStep, ConsoleStep, HandoverStep, OomScoreAdjStep, OomScoreAfterHooksStep, SeccompStep, SessionKeyringStep, SessionStep, SetgroupsPolicyStep };
export { candidates, envPath, lookPath } from './lookpath';

export const register: RegisterPlugin = (api) => {
  api.step(SessionStep);
  api.step(SessionKeyringStep);
  api.step(ConsoleSocketStep);
  api.step(ConsoleStep);
  api.step(OomScoreAdjStep);
  api.step(OomScoreAfterHooksStep);
  api.step(SetgroupsPolicyStep);
  api.step(SeccompStep);
  api.step(HandoverStep);
};
