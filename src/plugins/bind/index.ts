import type { RegisterPlugin } from '../../core/kernel';
import { BindMountHandler } from './handler';

export { BindMountHandler };

export const register: RegisterPlugin = (api) => api.handler(BindMountHandler);
