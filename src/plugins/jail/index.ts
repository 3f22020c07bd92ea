import type { RegisterPlugin } from '../../core/kernel';
import { JailStep } from './step';

export { JailStep };
export { chooseJail, type JailStrategy } from './strategy';
export { hostPseudoMounts } from './pseudo-mounts';

export const register: RegisterPlugin = (api) => api.step(JailStep);
