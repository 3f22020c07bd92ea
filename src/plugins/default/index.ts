import type { RegisterPlugin } from '../../core/kernel';
import { DefaultMountHandler } from './handler';

export { DefaultMountHandler };

export const register: RegisterPlugin = (api) => api.handler(DefaultMountHandler);
