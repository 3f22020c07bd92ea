import type { RegisterPlugin } from '../../core/kernel';
import { CgroupMountHandler, type CgroupPluginOptions } from './handler';

export { CgroupMountHandler, type CgroupPluginOptions };

export const register: RegisterPlugin = (api) => api.handler(CgroupMountHandler);
