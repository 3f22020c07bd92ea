import type { RegisterPlugin } from '../../core/kernel';
import { ProcMountHandler } from './handler';

export { ProcMountHandler };

export const register: RegisterPlugin = (api) => api.handler(ProcMountHandler);
