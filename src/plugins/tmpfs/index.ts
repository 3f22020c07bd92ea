import type { RegisterPlugin } from '../../core/kernel';
import { TmpfsMountHandler } from './handler';

export { TmpfsMountHandler };

export const register: RegisterPlugin = (api) => api.handler(TmpfsMountHandler);
