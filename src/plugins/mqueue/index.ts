import type { RegisterPlugin } from '../../core/kernel';
import { MqueueMountHandler } from './handler';

export { MqueueMountHandler };

export const register: RegisterPlugin = (api) => api.handler(MqueueMountHandler);
