import type { RegisterPlugin } from '../../core/kernel';
import { HandoverStep } from './handover';

export { HandoverStep };
export { DEFAULT_PATH, candidates, envPath, lookPath } from './lookpath';

export const register: RegisterPlugin = (api) => api.step(HandoverStep);
