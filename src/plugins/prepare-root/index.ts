import type { RegisterPlugin } from '../../core/kernel';
import { PrepareRootStep } from './step';

export { PrepareRootStep };
export { rootPropagation, sharedParentOf } from './propagation';

export const register: RegisterPlugin = (api) => api.step(PrepareRootStep);
