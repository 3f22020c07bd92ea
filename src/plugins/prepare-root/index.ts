import type { RegisterPlugin } from '../../core/kernel';
import { SelinuxStateStep } from './selinux';
import { PrepareRootStep } from './step';

export { PrepareRootStep, SelinuxStateStep };
export { rootPropagation, sharedParentOf } from './propagation';

export const register: RegisterPlugin = (api) => {
  api.step(SelinuxStateStep);
  api.step(PrepareRootStep);
};
