import type { RegisterPlugin } from '../../core/kernel';
import { OciHooksStep, StartContainerHooksStep } from './run-hooks';

export { OciHooksStep, StartContainerHooksStep };

export const register: RegisterPlugin = (api) => {
  api.step(OciHooksStep);
  api.step(StartContainerHooksStep);
};
