import type { RegisterPlugin } from '../../core/kernel';
import { LOOPBACK, LoopbackStep } from './loopback';

export { LOOPBACK, LoopbackStep };

export const register: RegisterPlugin = (api) => api.step(LoopbackStep);
