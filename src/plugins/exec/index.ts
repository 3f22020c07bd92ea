import type { RegisterPlugin } from '../../core/kernel';
import { HandoverStep } from './handover';
import { OomScoreAdjStep } from './oom-score';
import { SeccompStep } from './seccomp';

export { HandoverStep, OomScoreAdjStep, SeccompStep };
export { DEFAULT_PATH, candidates, envPath, lookPath } from './lookpath';

export const register: RegisterPlugin = (api) => {
  api.step(OomScoreAdjStep);
  api.step(SeccompStep);
  api.step(HandoverStep);
};
