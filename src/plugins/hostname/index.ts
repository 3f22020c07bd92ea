import type { RegisterPlugin } from '../../core/kernel';
import { HostnameStep } from './hostname';

export { HostnameStep };

export const register: RegisterPlugin = (api) => api.step(HostnameStep);
