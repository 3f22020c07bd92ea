import type { RegisterPlugin } from '../../core/kernel';
import { OciHooksStep } from './run-hooks';

export { OciHooksStep };

export const register: RegisterPlugin = (api) => api.step(OciHooksStep);
