import type { RegisterPlugin } from '../../core/kernel';
import { CreateContainerHooksStep, OciHooksStep } from './run-hooks';

export { CreateContainerHooksStep, OciHooksStep };

export const register: RegisterPlugin = (api) => {
  api.step(OciHooksStep);
  api.step(CreateContainerHooksStep);
};
